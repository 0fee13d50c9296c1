/**
 * Thrift compact protocol, write side only: enough for Parquet page headers and the file
 * footer (parquet.thrift). Field ids are written as deltas, integers as zigzag varints.
 * Integers are JS numbers (file offsets stay far below 2^53).
 */

export const T = {
  BOOL_TRUE: 1,
  BOOL_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

const utf8 = new TextEncoder();

export class ThriftWriter {
  private buf = new Uint8Array(1024);
  private pos = 0;
  private lastField = 0;
  private readonly stack: number[] = [];

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative safe integer. */
  private varint(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  private zigzag(n: number): void {
    this.varint(n >= 0 ? 2 * n : -2 * n - 1);
  }

  private fieldHeader(id: number, type: number): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) {
      this.byte((delta << 4) | type);
    } else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastField = id;
  }

  i32(id: number, value: number): this {
    this.fieldHeader(id, T.I32);
    this.zigzag(value);
    return this;
  }

  i64(id: number, value: number): this {
    this.fieldHeader(id, T.I64);
    this.zigzag(value);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.fieldHeader(id, value ? T.BOOL_TRUE : T.BOOL_FALSE);
    return this;
  }

  string(id: number, value: string): this {
    const bytes = utf8.encode(value);
    this.fieldHeader(id, T.BINARY);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** A list of i32 values. */
  i32List(id: number, values: readonly number[]): this {
    this.listHeader(id, T.I32, values.length);
    for (const v of values) this.zigzag(v);
    return this;
  }

  stringList(id: number, values: readonly string[]): this {
    this.listHeader(id, T.BINARY, values.length);
    for (const v of values) {
      const bytes = utf8.encode(v);
      this.varint(bytes.length);
      this.reserve(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    }
    return this;
  }

  /** A list of structs, each written by `write` between its own begin/end. */
  structList<T>(id: number, items: readonly T[], write: (w: ThriftWriter, item: T) => void): this {
    this.listHeader(id, T.STRUCT, items.length);
    for (const item of items) {
      this.beginElement();
      write(this, item);
      this.end();
    }
    return this;
  }

  /** Open a struct-typed field; close it with `end()`. */
  struct(id: number): this {
    this.fieldHeader(id, T.STRUCT);
    this.beginElement();
    return this;
  }

  /** Close the innermost struct (or the top-level one with end() when the stack is empty). */
  end(): this {
    this.byte(0);
    this.lastField = this.stack.pop() ?? 0;
    return this;
  }

  private beginElement(): void {
    this.stack.push(this.lastField);
    this.lastField = 0;
  }

  private listHeader(id: number, elementType: number, size: number): void {
    this.fieldHeader(id, T.LIST);
    if (size < 15) this.byte((size << 4) | elementType);
    else {
      this.byte(0xf0 | elementType);
      this.varint(size);
    }
  }
}
