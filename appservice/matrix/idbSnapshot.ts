import { existsSync, readFileSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import { writeFileAtomic } from "../shared/writeFileAtomic.js";

interface IndexSnapshot {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}
interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IndexSnapshot[];
  keys: IDBValidKey[];
  values: unknown[];
}
interface DatabaseSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openExisting(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function snapshotDatabase(name: string): Promise<DatabaseSnapshot> {
  const db = await openExisting(name);
  try {
    const storeNames = [...db.objectStoreNames];
    const stores: StoreSnapshot[] = [];
    if (storeNames.length > 0) {
      // One read transaction over every store gives a consistent view.
      const tx = db.transaction(storeNames, "readonly");
      for (const storeName of storeNames) {
        const store = tx.objectStore(storeName);
        const indexes = [...store.indexNames].map((n) => {
          const idx = store.index(n);
          return { name: n, keyPath: idx.keyPath, unique: idx.unique, multiEntry: idx.multiEntry };
        });
        const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
        stores.push({ name: storeName, keyPath: store.keyPath, autoIncrement: store.autoIncrement, indexes, keys, values });
      }
    }
    return { name, version: db.version, stores };
  } finally {
    db.close();
  }
}

async function restoreDatabase(snap: DatabaseSnapshot): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(snap.name, snap.version);
    req.onupgradeneeded = () => {
      const upgrading = req.result;
      for (const s of snap.stores) {
        const store = upgrading.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const i of s.indexes) store.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    if (snap.stores.length === 0) return;
    const tx = db.transaction(
      snap.stores.map((s) => s.name),
      "readwrite",
    );
    for (const s of snap.stores) {
      const store = tx.objectStore(s.name);
      s.values.forEach((v, i) => (s.keyPath === null ? store.put(v, s.keys[i]) : store.put(v)));
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("restore transaction aborted"));
    });
  } finally {
    db.close();
  }
}

type Listener = (dbName: string) => void;
const writeListeners = new Set<Listener>();
let patched = false;

/** Hooks IDBDatabase.transaction once so every committed readwrite transaction is reported. */
function watchWrites(): void {
  if (patched) return;
  patched = true;
  const proto = globalThis.IDBDatabase.prototype;
  const original = proto.transaction;
  proto.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase["transaction"]>) {
    const tx = original.apply(this, args);
    if (args[1] === "readwrite") {
      const name = this.name;
      tx.addEventListener("complete", () => {
        for (const l of writeListeners) l(name);
      });
    }
    return tx;
  } as IDBDatabase["transaction"];
}

/**
 * The rust crypto store lives in IndexedDB, which in Node is fake-indexeddb: memory only. This
 * module makes it durable: after every committed write transaction the databases with a given
 * name prefix are snapshotted to one file (written atomically), and restored before the crypto
 * is initialised. The store's values are already encrypted with the bot's storage password, so
 * the snapshot holds no readable keys.
 *
 * Keeps the IndexedDB databases whose names start with `prefix` in `file`.
 */
export class IdbSnapshotter {
  private dirty = false;
  private writing: Promise<void> | null = null;
  private readonly listener: Listener;
  private closed = false;

  constructor(
    private readonly prefix: string,
    private readonly file: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.listener = (name) => {
      if (name.startsWith(prefix) && !this.closed) this.schedule();
    };
  }

  /** Loads the snapshot (if any) into IndexedDB and starts watching for writes. */
  async restore(): Promise<boolean> {
    watchWrites();
    let restored = false;
    if (existsSync(this.file)) {
      const snaps = deserialize(readFileSync(this.file)) as DatabaseSnapshot[];
      for (const snap of snaps) await restoreDatabase(snap);
      restored = true;
    }
    writeListeners.add(this.listener);
    return restored;
  }

  private schedule(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop().finally(() => (this.writing = null));
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await this.writeNow();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Resolves once every write seen so far is on disk. */
  async flushed(): Promise<void> {
    while (this.dirty || this.writing) await (this.writing ?? Promise.resolve());
  }

  async writeNow(): Promise<void> {
    const names = (await indexedDB.databases()).map((d) => d.name!).filter((n) => n.startsWith(this.prefix));
    const snaps: DatabaseSnapshot[] = [];
    for (const n of names.sort()) snaps.push(await snapshotDatabase(n));
    writeFileAtomic(this.file, serialize(snaps), 0o600);
  }

  /** Final snapshot on shutdown, after any in-flight one. */
  async close(): Promise<void> {
    await this.writing;
    writeListeners.delete(this.listener);
    this.closed = true;
    await this.writeNow();
  }
}
