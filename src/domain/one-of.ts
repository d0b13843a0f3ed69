/** Whether `value` is one of `values`: narrows a string read from input or storage to the union. */
export function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}
