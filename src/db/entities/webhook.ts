import { OptionalProps, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { AuthType, BodyFormat, DeliveryOrdering, HttpMethod, ResponseMappingDef, StoredHeader, SuccessRuleDef } from '../../domain/index.js';

@Entity({ tableName: 'webhooks' })
export class Webhook {
  [OptionalProps]?: 'body' | 'headers' | 'authType' | 'authUsername' | 'authSecretSealed' | 'responseMappings' | 'successComment' | 'enabled' | 'createdAt' | 'updatedAt'
    | 'signingEnabled' | 'signingSecretSealed' | 'signingPreviousSecretSealed' | 'signingPreviousValidUntil' | 'successRule' | 'ordering'
    | 'maxConcurrency' | 'rateLimitPerSecond' | 'disabledReason' | 'disabledAt';

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

  /** Standard Webhooks signing: on once a secret exists and this is true */
  @Property({ type: 'boolean' })
  signingEnabled = false;

  /** the sealed `whsec_…` secret (src/crypto/secret-box.ts); never returned after rotateSigningSecret */
  @Property({ type: 'text', nullable: true, hidden: true })
  signingSecretSealed: string | null = null;

  /** the secret before the last rotation: a second signature until signingPreviousValidUntil */
  @Property({ type: 'text', nullable: true, hidden: true })
  signingPreviousSecretSealed: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  signingPreviousValidUntil: Date | null = null;

  /** null: DEFAULT_SUCCESS_RULE */
  @Property({ type: 'json', nullable: true })
  successRule: SuccessRuleDef | null = null;

  @Property({ type: 'text' })
  ordering: DeliveryOrdering = 'NONE';

  @Property({ type: 'integer' })
  maxConcurrency = 10;

  /** null: no limit */
  @Property({ type: 'double', nullable: true, runtimeType: 'number' })
  rateLimitPerSecond: number | null = null;

  /** why the system switched the webhook off (410 Gone, a breaker open for a whole retry window); null otherwise */
  @Property({ type: 'text', nullable: true })
  disabledReason: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  disabledAt: Date | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
