import { OptionalProps, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { AuthType, BodyFormat, HttpMethod, ResponseMappingDef, StoredHeader } from '../../domain/index.js';

@Entity({ tableName: 'webhooks' })
export class Webhook {
  [OptionalProps]?: 'body' | 'headers' | 'authType' | 'authUsername' | 'authSecretSealed' | 'responseMappings' | 'successComment' | 'enabled' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  method!: HttpMethod;

  /** template */
  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'text' })
  format!: BodyFormat;

  /** template; '' for none */
  @Property({ type: 'text' })
  body = '';

  /** secret headers' values are sealed (StoredHeader.sealed), never returned */
  @Property({ type: 'json' })
  headers: StoredHeader[] = [];

  @Property({ type: 'text' })
  authType: AuthType = 'NONE';

  @Property({ type: 'text', nullable: true })
  authUsername: string | null = null;

  /** AES-256-GCM sealed password or token (see src/crypto/secret-box.ts); never returned */
  @Property({ type: 'text', nullable: true, hidden: true })
  authSecretSealed: string | null = null;

  @Property({ type: 'json' })
  responseMappings: ResponseMappingDef[] = [];

  @Property({ type: 'text' })
  successComment = '';

  @Property({ type: 'boolean' })
  enabled = true;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
