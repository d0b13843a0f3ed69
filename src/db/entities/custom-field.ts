import { OptionalProps, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { CustomFieldType } from '../../delivery/types.js';

@Entity({ tableName: 'custom_fields' })
export class CustomField {
  [OptionalProps]?: 'options' | 'createdAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text', unique: true })
  key!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  type!: CustomFieldType;

  @Property({ type: 'json' })
  options: string[] = [];

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
