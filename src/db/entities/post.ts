import { OptionalProps, Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from './user.js';
import { type Ticket, Ticket as TicketEntity } from './ticket.js';
import type { PostKind } from '../../domain/index.js';

@Entity({ tableName: 'posts' })
@Index({ properties: ['ticket', 'createdAt'] })
export class Post {
  [OptionalProps]?: 'author' | 'createdAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => TicketEntity, { deleteRule: 'cascade' })
  ticket!: Ticket;

  @Property({ type: 'text' })
  kind!: PostKind;

  @Property({ type: 'text' })
  text!: string;

  /** null when the system wrote it (a rule action, a webhook result) */
  @ManyToOne(() => User, { nullable: true })
  author: User | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
