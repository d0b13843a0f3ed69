import { OptionalProps, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { ActionDef, ConditionDef, MatchType, TicketEventType } from '../../domain/index.js';

@Entity({ tableName: 'rules' })
export class Rule {
  [OptionalProps]?: 'description' | 'enabled' | 'position' | 'continueAfterMatch' | 'events' | 'match' | 'conditions' | 'actions' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  description = '';

  @Property({ type: 'boolean' })
  enabled = true;

  @Property({ type: 'integer' })
  position = 0;

  @Property({ type: 'boolean' })
  continueAfterMatch = false;

  @Property({ type: 'json' })
  events: TicketEventType[] = [];

  @Property({ type: 'text' })
  match: MatchType = 'ALL';

  @Property({ type: 'json' })
  conditions: ConditionDef[] = [];

  @Property({ type: 'json' })
  actions: ActionDef[] = [];

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
