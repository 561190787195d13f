/**
 * The devices connected through the gateway, remembered so that they can be
 * announced again after a reconnect (ThingsBoard keeps no session state).
 *
 * @module
 */

interface Entry {
  type: string | undefined;
  /** Announcements of this device still waiting for their PUBACK (queued or in flight). */
  pending: number;
}

/** Connected devices by name, in connection order. */
export class DeviceRegistry {
  #devices = new Map<string, Entry>();

  /** Names of the connected devices. */
  get names(): string[] {
    return [...this.#devices.keys()];
  }

  /**
   * Whether a device is connected.
   *
   * @param name The device name.
   * @returns `true` when connected.
   */
  has(name: string): boolean {
    return this.#devices.has(name);
  }

  /**
   * Records a device whose announcement is about to be sent.
   *
   * @param name The device name.
   * @param type Its device profile, if given.
   * @returns A function to call once the announcement settled.
   */
  announce(name: string, type: string | undefined): () => void {
    const entry = this.#devices.get(name) ?? { type, pending: 0 };
    entry.type = type ?? entry.type;
    entry.pending++;
    this.#devices.set(name, entry);
    return () => {
      entry.pending--;
    };
  }

  /**
   * Forgets a device.
   *
   * @param name The device name.
   * @returns `false` when it was not connected.
   */
  remove(name: string): boolean {
    return this.#devices.delete(name);
  }

  /**
   * The devices to announce after a reconnect: all but those whose
   * announcement is still queued or in flight (the MQTT client sends those).
   *
   * @returns Names and types.
   */
  toAnnounce(): Array<{ name: string; type: string | undefined }> {
    const out: Array<{ name: string; type: string | undefined }> = [];
    for (const [name, e] of this.#devices) if (e.pending === 0) out.push({ name, type: e.type });
    return out;
  }
}
