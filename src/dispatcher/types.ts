/** Dispatcher data: pure, no ORM entities. The shared vocabulary comes from src/domain. */
import type { ActionDef, ConditionDef, CustomFieldType, FieldChange, MatchType, TicketEventType } from '../domain/index.js';

export interface RuleDef {
  id: string;
  name: string;
  enabled: boolean;
  position: number;
  continueAfterMatch: boolean;
  events: TicketEventType[];
  match: MatchType;
  conditions: ConditionDef[];
  actions: ActionDef[];
}

export interface CustomFieldInfo {
  type: CustomFieldType;
  options: string[];
}

export interface DispatchEvent {
  type: TicketEventType;
  changes: FieldChange[];
  /** TIMER: the rule whose timer raised it (the only rule it is judged against) */
  ruleId?: string;
}
