import { OptionalProps, Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { ROLES, type Role } from '../../domain/index.js';

@Entity({ tableName: 'users' })
export class User {
  [OptionalProps]?: 'phone' | 'telegramChatId' | 'createdAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  /** stored lower-cased; unique */
  @Property({ type: 'text', unique: true })
  email!: string;

  @Enum({ items: [...ROLES], nativeEnumName: undefined, type: 'text' })
  role!: Role;

  @Property({ type: 'text', nullable: true })
  phone: string | null = null;

  @Property({ type: 'text', nullable: true })
  telegramChatId: string | null = null;

  /** SHA-256 of the API key; the key itself is never stored */
  @Property({ type: 'text', unique: true, hidden: true })
  apiKeyHash!: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
