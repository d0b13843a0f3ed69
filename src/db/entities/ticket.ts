import { OptionalProps, Collection, Entity, Index, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from './user.js';
import { Post } from './post.js';
import type { TicketPriority, TicketStatus } from '../../domain/index.js';

@Entity({ tableName: 'tickets' })
export class Ticket {
  [OptionalProps]?: 'status' | 'priority' | 'assignee' | 'parent' | 'customFields' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  title!: string;

  @Property({ type: 'text' })
  description!: string;

  @Index()
  @Property({ type: 'text' })
  status: TicketStatus = 'OPEN';

  @Property({ type: 'text' })
  priority: TicketPriority = 'NORMAL';

  @ManyToOne(() => User, { index: true })
  requester!: User;

  @ManyToOne(() => User, { nullable: true })
  assignee: User | null = null;

  @ManyToOne(() => Ticket, { nullable: true, index: true, deleteRule: 'set null' })
  parent: Ticket | null = null;

  @OneToMany(() => Ticket, (t) => t.parent)
  children = new Collection<Ticket>(this);

  @OneToMany(() => Post, (p) => p.ticket)
  posts = new Collection<Post>(this);

  /** values keyed by CustomField.key, already converted to the field's type */
  @Property({ type: 'json' })
  customFields: Record<string, unknown> = {};

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
