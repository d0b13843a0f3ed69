/** One thing wrong with an input, naming the offending field (`actions[2].value`). */
export interface FieldProblem {
  field: string;
  message: string;
}
