/** SET and ORDERED_SET: the union of byte strings; anna.proto `SetValue`. */
import { ByteSet, setUnion, toByteSet } from "./set-union";
import { fieldBytes, WireReader, WireWriter } from "../wire/protobuf";

export const set = setUnion;

const VALUES_FIELD = 1;

export function decodeSetWire(bytes: Uint8Array): ByteSet {
  const reader = new WireReader(bytes);
  const elements: Uint8Array[] = [];
  while (reader.hasMore()) {
    if (reader.readTag() === VALUES_FIELD) elements.push(reader.readBytes());
    else reader.skipField();
  }
  return toByteSet(elements);
}

/** Bytes of the elements written as repeated field `fieldNumber` (empty elements too). */
export function elementsBytes(elements: ByteSet): number {
  let bytes = 0;
  for (const element of elements) bytes += fieldBytes(element.length);
  return bytes;
}

export function writeElements(writer: WireWriter, fieldNumber: number, elements: ByteSet): void {
  for (const element of elements) writer.bytesField(fieldNumber, element);
}

export function encodeSetWire(elements: ByteSet): Uint8Array {
  const writer = new WireWriter(elementsBytes(elements));
  writeElements(writer, VALUES_FIELD, elements);
  return writer.finish();
}
