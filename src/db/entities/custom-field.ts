import { OptionalProps, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { CustomFieldType } from '../../domain/index.js';

@Entity({ tableName: 'custom_fields' })
export class CustomField {
  [OptionalProps]?: 'options' | 'clientVisible' | 'clientWritable' | 'createdAt';

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

  /** a CLIENT sees the value on its tickets; otherwise the field is internal */
  @Property({ type: 'boolean', default: false })
  clientVisible = false;

  /** a CLIENT may set the value (implies clientVisible) */
  @Property({ type: 'boolean', default: false })
  clientWritable = false;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
