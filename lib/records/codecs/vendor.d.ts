// The two codec packages ship no typings; only the calls kafka-rx makes are declared.
declare module 'lz4' {
  const lz4: { encode(data: Buffer): Buffer; decode(data: Buffer): Buffer };
  export default lz4;
}
declare module 'snappyjs' {
  const snappyjs: { compress(data: Uint8Array): Uint8Array; uncompress(data: Uint8Array): Uint8Array };
  export default snappyjs;
}
