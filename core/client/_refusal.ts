/**
 * What ThingsBoard means by each CONNACK refusal (from its transport code:
 * 3.1.1 return codes are the MQTT 5 reason codes mapped down).
 *
 * @module
 */

/**
 * Explains a refusal in ThingsBoard's terms.
 *
 * @param reasonCode The MQTT 5 reason code (or the one equivalent to a 3.1.1 return code).
 * @param usesToken Whether the client authenticates with an access token.
 * @returns The explanation, without any credential.
 */
export function refusalMeaning(reasonCode: number, usesToken: boolean): string {
  const credentials = usesToken ? "access token" : "credentials";
  switch (reasonCode) {
    case 0x86:
    case 0x87:
      return `${credentials} not accepted by ThingsBoard`;
    case 0x85:
      return "client identifier not accepted by ThingsBoard (no device has it as MQTT credentials)";
    case 0x88:
      return "ThingsBoard could not validate the credentials or open the device session (see the server log; retry later)";
    case 0x9f:
      return "ThingsBoard's connection rate limit was exceeded (connect less often)";
    case 0x84:
      return "ThingsBoard does not accept this MQTT protocol version";
    default:
      return "refused by ThingsBoard";
  }
}
