/**
 * Maps keyed by a record of several string fields (a composite key such as
 * target and CPU). The key is serialised as the JSON array of its fields'
 * values in a fixed order, which is injective: two keys share a serialisation
 * only when every field is equal, whatever characters the values contain
 * (unlike joining them with a separator, where `a:b` + `c` and `a` + `b:c`
 * meet).
 */

/** A composite key: a record of string fields. */
export type CompositeKey = Readonly<Record<string, string>>;

/** The JSON array of `key`'s values in the order of `fields`: one string per distinct key. */
export function serializeKey<K extends CompositeKey>(fields: readonly (keyof K & string)[], key: K): string {
  return JSON.stringify(fields.map((f) => key[f]));
}

/**
 * A Map whose keys are records of string fields, compared field by field.
 * Iteration follows insertion order (as Map's); entries give back the key
 * records as first inserted.
 */
export class KeyedMap<K extends CompositeKey, V> {
  private readonly map = new Map<string, { key: K; value: V }>();

  /** @param fields the key's fields, in the order they are serialised. */
  constructor(private readonly fields: readonly (keyof K & string)[]) {}

  /** Number of distinct keys. */
  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(serializeKey(this.fields, key))?.value;
  }

  has(key: K): boolean {
    return this.map.has(serializeKey(this.fields, key));
  }

  set(key: K, value: V): this {
    const k = serializeKey(this.fields, key);
    const old = this.map.get(k);
    this.map.set(k, { key: old?.key ?? { ...key }, value });
    return this;
  }

  /** The value of `key`, made by `make` and stored first when there is none. */
  upsert(key: K, make: (key: K) => V): V {
    const k = serializeKey(this.fields, key);
    let e = this.map.get(k);
    if (!e) this.map.set(k, (e = { key: { ...key }, value: make(key) }));
    return e.value;
  }

  /** [key, value] pairs in insertion order. */
  *entries(): IterableIterator<[K, V]> {
    for (const { key, value } of this.map.values()) yield [key, value];
  }

  /** Values in insertion order. */
  *values(): IterableIterator<V> {
    for (const { value } of this.map.values()) yield value;
  }
}

/** Groups `items` by a composite key; groups keep the items' order and come in order of first appearance. */
export function groupByKey<T, K extends CompositeKey>(
  items: readonly T[],
  fields: readonly (keyof K & string)[],
  keyOf: (item: T) => K,
): KeyedMap<K, T[]> {
  const groups = new KeyedMap<K, T[]>(fields);
  for (const item of items) groups.upsert(keyOf(item), () => []).push(item);
  return groups;
}
