/**
 * A JSON reader that accepts what ThingsBoard's (Gson's lenient) parser
 * accepts, keeping object key order and the source text of numbers, and a
 * writer that produces Gson's compact output.
 *
 * @module
 */

/** A parsed JSON value. Objects keep insertion order; numbers keep their text. */
export type JNode =
  | { t: "obj"; v: Map<string, JNode> }
  | { t: "arr"; v: JNode[] }
  | { t: "str"; v: string }
  | { t: "num"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "null" };

/** Thrown for text ThingsBoard's parser rejects. */
export class JsonSyntaxError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const LITERAL_END = new Set([..."/\\;#= \t\f\r\n{}[]:,"]);

/**
 * Parses `text` like Gson's lenient `JsonParser.parseString`: unquoted and
 * single-quoted names and strings, `=`/`=>` separators, `;` between elements,
 * comments; an empty document is `null`; trailing content is an error.
 */
export function parseJson(text: string): JNode {
  const p = new Parser(text);
  p.skipWs();
  if (p.i >= text.length) return { t: "null" };
  const node = p.value();
  p.skipWs();
  if (p.i < text.length) throw new JsonSyntaxError("Did not consume the entire document");
  return node;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new JsonSyntaxError(`${what} at offset ${this.i}`);
  }

  skipWs(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.i++;
      else if (c === "#") this.skipLine();
      else if (c === "/" && s[this.i + 1] === "/") this.skipLine();
      else if (c === "/" && s[this.i + 1] === "*") {
        const end = s.indexOf("*/", this.i + 2);
        if (end < 0) this.fail("Unterminated comment");
        this.i = end + 2;
      } else return;
    }
  }

  skipLine(): void {
    while (this.i < this.s.length && this.s[this.i] !== "\n" && this.s[this.i] !== "\r") this.i++;
  }

  value(): JNode {
    this.skipWs();
    const c = this.s[this.i];
    if (c === undefined) this.fail("End of input");
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"' || c === "'") return { t: "str", v: this.quoted(c) };
    return this.literal();
  }

  object(): JNode {
    this.i++;
    const map = new Map<string, JNode>();
    this.skipWs();
    if (this.s[this.i] === "}") {
      this.i++;
      return { t: "obj", v: map };
    }
    for (;;) {
      this.skipWs();
      const c = this.s[this.i];
      let name: string;
      if (c === '"' || c === "'") name = this.quoted(c);
      else if (c === undefined || c === "}" || c === "," || c === ";") this.fail("Expected name");
      else name = this.unquoted();
      this.skipWs();
      const sep = this.s[this.i];
      if (sep === ":") this.i++;
      else if (sep === "=") {
        this.i++;
        if (this.s[this.i] === ">") this.i++;
      } else this.fail("Expected ':'");
      map.set(name, this.value());
      this.skipWs();
      const next = this.s[this.i];
      this.i++;
      if (next === "}") return { t: "obj", v: map };
      if (next !== "," && next !== ";") this.fail("Unterminated object");
    }
  }

  array(): JNode {
    this.i++;
    const items: JNode[] = [];
    this.skipWs();
    if (this.s[this.i] === "]") {
      this.i++;
      return { t: "arr", v: items };
    }
    for (;;) {
      this.skipWs();
      const c = this.s[this.i];
      // Lenient Gson reads an omitted element ("[1,,2]", "[1,]") as null.
      if (c === "," || c === ";" || c === "]") items.push({ t: "null" });
      else items.push(this.value());
      this.skipWs();
      const next = this.s[this.i];
      this.i++;
      if (next === "]") return { t: "arr", v: items };
      if (next !== "," && next !== ";") this.fail("Unterminated array");
    }
  }

  quoted(q: string): string {
    const s = this.s;
    this.i++;
    let out = "";
    let start = this.i;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail("Unterminated string");
      if (c === q) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c === "\\") {
        out += s.slice(start, this.i);
        this.i++;
        out += this.escape();
        start = this.i;
      } else this.i++;
    }
  }

  escape(): string {
    const c = this.s[this.i++];
    switch (c) {
      case "u": {
        const hex = this.s.slice(this.i, this.i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("Malformed Unicode escape");
        this.i += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case "t":
        return "\t";
      case "b":
        return "\b";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "f":
        return "\f";
      case "\n":
      case "'":
      case '"':
      case "\\":
      case "/":
        return c;
      default:
        return this.fail("Invalid escape sequence");
    }
  }

  unquoted(): string {
    const start = this.i;
    while (this.i < this.s.length && !LITERAL_END.has(this.s[this.i]!)) this.i++;
    if (this.i === start) this.fail("Expected value");
    return this.s.slice(start, this.i);
  }

  literal(): JNode {
    const word = this.unquoted();
    const lower = word.toLowerCase();
    if (lower === "true" && isKeywordCase(word, "true")) return { t: "bool", v: true };
    if (lower === "false" && isKeywordCase(word, "false")) return { t: "bool", v: false };
    if (lower === "null" && isKeywordCase(word, "null")) return { t: "null" };
    if (NUMBER.test(word)) return { t: "num", v: word };
    return { t: "str", v: word };
  }
}

/** Gson accepts each keyword letter in lower or upper case. */
function isKeywordCase(word: string, keyword: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c !== keyword[i] && c !== keyword[i]!.toUpperCase()) return false;
  }
  return true;
}

/** Quotes a string as Gson's `JsonWriter` does (not HTML-safe). */
export function quote(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    let rep: string | undefined;
    if (code < 0x20) {
      rep = SHORT_ESCAPES[code] ?? `\\u${code.toString(16).padStart(4, "0")}`;
    } else if (code === 0x22) rep = '\\"';
    else if (code === 0x5c) rep = "\\\\";
    else if (code === 0x2028) rep = "\\u2028";
    else if (code === 0x2029) rep = "\\u2029";
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

const SHORT_ESCAPES: Record<number, string> = {
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0c: "\\f",
  0x0d: "\\r",
};

/** Writes a node compactly, as Gson's `JsonElement.toString()`. */
export function stringify(node: JNode): string {
  switch (node.t) {
    case "obj": {
      const parts: string[] = [];
      for (const [k, v] of node.v) parts.push(quote(k) + ":" + stringify(v));
      return "{" + parts.join(",") + "}";
    }
    case "arr":
      return "[" + node.v.map(stringify).join(",") + "]";
    case "str":
      return quote(node.v);
    case "num":
      return node.v;
    case "bool":
      return node.v ? "true" : "false";
    case "null":
      return "null";
  }
}

/** Converts a node to a plain JS value (numbers via `Number`). */
export function toJs(node: JNode): unknown {
  switch (node.t) {
    case "obj": {
      const o: Record<string, unknown> = {};
      for (const [k, v] of node.v) {
        Object.defineProperty(o, k, { value: toJs(v), enumerable: true, writable: true });
      }
      return o;
    }
    case "arr":
      return node.v.map(toJs);
    case "num":
      return Number(node.v);
    case "null":
      return null;
    default:
      return node.v;
  }
}

/** Gson's `getAsString()` for primitives; `undefined` for objects, arrays and null (which throw in Gson). */
export function asString(node: JNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (node.t === "str" || node.t === "num") return node.v;
  if (node.t === "bool") return String(node.v);
  // A one-element array behaves like its element.
  if (node.t === "arr" && node.v.length === 1) return asString(node.v[0]);
  return undefined;
}
