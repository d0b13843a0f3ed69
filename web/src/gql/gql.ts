/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  subscription ConsoleDeliveryChanges($filter: DeliveryFilter) {\n    deliveryEvents(filter: $filter) {\n      type\n      delivery {\n        id\n        status\n      }\n    }\n  }\n": typeof types.ConsoleDeliveryChangesDocument,
    "\n  query ConsoleWebhookHealth($id: ID!) {\n    webhook(id: $id) {\n      id\n      health {\n        breaker\n        openedAt\n        recentAttempts\n        recentFailureRate\n      }\n    }\n  }\n": typeof types.ConsoleWebhookHealthDocument,
    "\n  fragment ConsoleRuleDefinition on Rule {\n    id\n    name\n    description\n    enabled\n    position\n    continueAfterMatch\n    events\n    match\n    conditions {\n      field\n      operator\n      value\n    }\n    actions {\n      type\n      webhook {\n        id\n        name\n      }\n      field\n      value\n      awaitResponse\n    }\n  }\n": typeof types.ConsoleRuleDefinitionFragmentDoc,
    "\n  query ConsoleDeliveries($filter: DeliveryFilter, $first: Int, $after: String) {\n    deliveries(filter: $filter, first: $first, after: $after) {\n      nodes {\n        id\n        status\n        event\n        attemptCount\n        createdAt\n        completedAt\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n          title\n        }\n        request {\n          method\n          url\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n      totalCount\n    }\n  }\n": typeof types.ConsoleDeliveriesDocument,
    "\n  query ConsoleWebhookNames {\n    webhooks {\n      id\n      name\n    }\n  }\n": typeof types.ConsoleWebhookNamesDocument,
    "\n  query ConsoleRuleNames {\n    rules {\n      id\n      name\n    }\n  }\n": typeof types.ConsoleRuleNamesDocument,
    "\n  query ConsoleNewestMatching($filter: DeliveryFilter) {\n    deliveries(filter: $filter, first: 1) {\n      nodes {\n        id\n        createdAt\n      }\n    }\n  }\n": typeof types.ConsoleNewestMatchingDocument,
    "\n  mutation ConsoleRedeliverMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: redeliverMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n": typeof types.ConsoleRedeliverManyDocument,
    "\n  mutation ConsoleCancelMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: cancelMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n": typeof types.ConsoleCancelManyDocument,
    "\n  subscription ConsoleLiveDeliveries {\n    deliveryEvents {\n      type\n      at\n      delivery {\n        id\n        status\n        attemptCount\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n        }\n        request {\n          method\n          url\n        }\n      }\n    }\n  }\n": typeof types.ConsoleLiveDeliveriesDocument,
    "\n  query ConsoleDelivery($id: ID!) {\n    delivery(id: $id) {\n      id\n      status\n      event\n      attemptCount\n      nextAttemptAt\n      createdAt\n      completedAt\n      responseData\n      webhook {\n        id\n        name\n      }\n      ticket {\n        id\n        title\n      }\n      rule {\n        id\n        name\n      }\n      request {\n        method\n        url\n        headers\n        body\n      }\n      attempts {\n        number\n        startedAt\n        durationMs\n        statusCode\n        error\n        responseBody\n      }\n    }\n  }\n": typeof types.ConsoleDeliveryDocument,
    "\n  mutation ConsoleRedeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id\n    }\n  }\n": typeof types.ConsoleRedeliverDocument,
    "\n  mutation ConsoleCancelDelivery($id: ID!) {\n    cancelDelivery(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ConsoleCancelDeliveryDocument,
    "\n  query ConsoleNewTicketSupport {\n    me {\n      id\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n  }\n": typeof types.ConsoleNewTicketSupportDocument,
    "\n  mutation ConsoleCreateTicket($input: CreateTicketInput!) {\n    createTicket(input: $input) {\n      id\n    }\n  }\n": typeof types.ConsoleCreateTicketDocument,
    "\n  query ConsoleRule($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n": typeof types.ConsoleRuleDocument,
    "\n  query ConsoleRuleNow($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n": typeof types.ConsoleRuleNowDocument,
    "\n  query ConsoleRuleEditorSupport {\n    webhooks {\n      id\n      name\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n    events: __type(name: \"TicketEvent\") {\n      enumValues {\n        name\n      }\n    }\n  }\n": typeof types.ConsoleRuleEditorSupportDocument,
    "\n  query ConsoleRuleFields {\n    ruleFields {\n      name\n      type\n      description\n      operators\n      options\n    }\n  }\n": typeof types.ConsoleRuleFieldsDocument,
    "\n  mutation ConsoleCreateRule($input: RuleInput!) {\n    createRule(input: $input) {\n      id\n    }\n  }\n": typeof types.ConsoleCreateRuleDocument,
    "\n  mutation ConsoleDeleteRule($id: ID!) {\n    deleteRule(id: $id)\n  }\n": typeof types.ConsoleDeleteRuleDocument,
    "\n  query ConsoleRules {\n    rules {\n      ...ConsoleRuleDefinition\n    }\n  }\n": typeof types.ConsoleRulesDocument,
    "\n  mutation ConsoleUpdateRule($id: ID!, $input: RuleInput!) {\n    updateRule(id: $id, input: $input) {\n      ...ConsoleRuleDefinition\n    }\n  }\n": typeof types.ConsoleUpdateRuleDocument,
    "\n  query ConsoleTicket($id: ID!) {\n    ticket(id: $id) {\n      id\n      title\n      description\n      status\n      priority\n      customFields\n      createdAt\n      updatedAt\n      requester {\n        id\n        name\n        email\n      }\n      assignee {\n        id\n        name\n      }\n      parent {\n        id\n        title\n      }\n      posts {\n        id\n        kind\n        text\n        createdAt\n        author {\n          id\n          name\n        }\n      }\n    }\n    customFields {\n      key\n      name\n    }\n  }\n": typeof types.ConsoleTicketDocument,
    "\n  query ConsoleTicketDeliveries($ticketId: ID!) {\n    deliveries(filter: { ticketId: $ticketId }, first: 20) {\n      nodes {\n        id\n        status\n        attemptCount\n        createdAt\n        webhook {\n          id\n          name\n        }\n        request {\n          url\n        }\n      }\n      totalCount\n    }\n  }\n": typeof types.ConsoleTicketDeliveriesDocument,
    "\n  mutation ConsoleAddReply($ticketId: ID!, $text: String!) {\n    addReply(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n": typeof types.ConsoleAddReplyDocument,
    "\n  mutation ConsoleAddComment($ticketId: ID!, $text: String!) {\n    addComment(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n": typeof types.ConsoleAddCommentDocument,
    "\n  mutation ConsoleUpdateTicket($id: ID!, $input: UpdateTicketInput!) {\n    updateTicket(id: $id, input: $input) {\n      id\n      status\n      priority\n      updatedAt\n    }\n  }\n": typeof types.ConsoleUpdateTicketDocument,
    "\n  query ConsoleTickets($status: TicketStatus, $first: Int, $offset: Int) {\n    tickets(status: $status, first: $first, offset: $offset) {\n      id\n      title\n      status\n      priority\n      updatedAt\n      requester {\n        id\n        name\n      }\n      assignee {\n        id\n        name\n      }\n    }\n  }\n": typeof types.ConsoleTicketsDocument,
    "\n  fragment ConsoleWebhookPolicy on Webhook {\n    enabled\n    signing {\n      enabled\n      secretSet\n      previousSecretValidUntil\n    }\n    successRule {\n      statuses\n      path\n      operator\n      value\n      onFailure\n    }\n    ordering\n    maxConcurrency\n    rateLimitPerSecond\n    health {\n      disabledReason\n      disabledAt\n    }\n  }\n": typeof types.ConsoleWebhookPolicyFragmentDoc,
    "\n  fragment ConsoleWebhookDefinition on Webhook {\n    id\n    name\n    method\n    url\n    format\n    body\n    headers {\n      name\n      value\n      secret\n    }\n    auth {\n      type\n      username\n      secretSet\n    }\n    responseMappings {\n      path\n      target\n      field\n    }\n    successComment\n    ...ConsoleWebhookPolicy\n  }\n": typeof types.ConsoleWebhookDefinitionFragmentDoc,
    "\n  query ConsoleWebhook($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n": typeof types.ConsoleWebhookDocument,
    "\n  query ConsoleWebhookNow($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n": typeof types.ConsoleWebhookNowDocument,
    "\n  query ConsoleWebhookEditorSupport {\n    templateTags {\n      name\n      description\n      example\n    }\n    tickets(first: 50) {\n      id\n      title\n    }\n  }\n": typeof types.ConsoleWebhookEditorSupportDocument,
    "\n  mutation ConsoleCreateWebhook($input: WebhookInput!) {\n    createWebhook(input: $input) {\n      id\n    }\n  }\n": typeof types.ConsoleCreateWebhookDocument,
    "\n  mutation ConsoleUpdateWebhook($id: ID!, $input: WebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n": typeof types.ConsoleUpdateWebhookDocument,
    "\n  query ConsoleWebhookEnabled($id: ID!) {\n    webhook(id: $id) {\n      id\n      enabled\n    }\n  }\n": typeof types.ConsoleWebhookEnabledDocument,
    "\n  mutation ConsoleRotateSigningSecret($webhookId: ID!) {\n    rotateSigningSecret(webhookId: $webhookId) {\n      secret\n      previousSecretValidUntil\n    }\n  }\n": typeof types.ConsoleRotateSigningSecretDocument,
    "\n  mutation ConsoleEnableWebhook($id: ID!) {\n    enableWebhook(id: $id) {\n      id\n      enabled\n      health {\n        disabledReason\n        disabledAt\n      }\n    }\n  }\n": typeof types.ConsoleEnableWebhookDocument,
    "\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n": typeof types.ConsoleDeleteWebhookDocument,
    "\n  mutation ConsoleTestWebhook($id: ID!, $ticketId: ID!) {\n    testWebhook(id: $id, ticketId: $ticketId) {\n      id\n      status\n    }\n  }\n": typeof types.ConsoleTestWebhookDocument,
    "\n  query ConsoleWebhooks {\n    webhooks {\n      id\n      name\n      method\n      url\n      enabled\n      health {\n        breaker\n        recentAttempts\n        recentFailureRate\n        disabledReason\n      }\n      stats(hours: 24) {\n        succeeded\n        failed\n        successRate\n        buckets {\n          start\n          succeeded\n          failed\n        }\n      }\n    }\n  }\n": typeof types.ConsoleWebhooksDocument,
};
const documents: Documents = {
    "\n  subscription ConsoleDeliveryChanges($filter: DeliveryFilter) {\n    deliveryEvents(filter: $filter) {\n      type\n      delivery {\n        id\n        status\n      }\n    }\n  }\n": types.ConsoleDeliveryChangesDocument,
    "\n  query ConsoleWebhookHealth($id: ID!) {\n    webhook(id: $id) {\n      id\n      health {\n        breaker\n        openedAt\n        recentAttempts\n        recentFailureRate\n      }\n    }\n  }\n": types.ConsoleWebhookHealthDocument,
    "\n  fragment ConsoleRuleDefinition on Rule {\n    id\n    name\n    description\n    enabled\n    position\n    continueAfterMatch\n    events\n    match\n    conditions {\n      field\n      operator\n      value\n    }\n    actions {\n      type\n      webhook {\n        id\n        name\n      }\n      field\n      value\n      awaitResponse\n    }\n  }\n": types.ConsoleRuleDefinitionFragmentDoc,
    "\n  query ConsoleDeliveries($filter: DeliveryFilter, $first: Int, $after: String) {\n    deliveries(filter: $filter, first: $first, after: $after) {\n      nodes {\n        id\n        status\n        event\n        attemptCount\n        createdAt\n        completedAt\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n          title\n        }\n        request {\n          method\n          url\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n      totalCount\n    }\n  }\n": types.ConsoleDeliveriesDocument,
    "\n  query ConsoleWebhookNames {\n    webhooks {\n      id\n      name\n    }\n  }\n": types.ConsoleWebhookNamesDocument,
    "\n  query ConsoleRuleNames {\n    rules {\n      id\n      name\n    }\n  }\n": types.ConsoleRuleNamesDocument,
    "\n  query ConsoleNewestMatching($filter: DeliveryFilter) {\n    deliveries(filter: $filter, first: 1) {\n      nodes {\n        id\n        createdAt\n      }\n    }\n  }\n": types.ConsoleNewestMatchingDocument,
    "\n  mutation ConsoleRedeliverMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: redeliverMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n": types.ConsoleRedeliverManyDocument,
    "\n  mutation ConsoleCancelMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: cancelMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n": types.ConsoleCancelManyDocument,
    "\n  subscription ConsoleLiveDeliveries {\n    deliveryEvents {\n      type\n      at\n      delivery {\n        id\n        status\n        attemptCount\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n        }\n        request {\n          method\n          url\n        }\n      }\n    }\n  }\n": types.ConsoleLiveDeliveriesDocument,
    "\n  query ConsoleDelivery($id: ID!) {\n    delivery(id: $id) {\n      id\n      status\n      event\n      attemptCount\n      nextAttemptAt\n      createdAt\n      completedAt\n      responseData\n      webhook {\n        id\n        name\n      }\n      ticket {\n        id\n        title\n      }\n      rule {\n        id\n        name\n      }\n      request {\n        method\n        url\n        headers\n        body\n      }\n      attempts {\n        number\n        startedAt\n        durationMs\n        statusCode\n        error\n        responseBody\n      }\n    }\n  }\n": types.ConsoleDeliveryDocument,
    "\n  mutation ConsoleRedeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id\n    }\n  }\n": types.ConsoleRedeliverDocument,
    "\n  mutation ConsoleCancelDelivery($id: ID!) {\n    cancelDelivery(id: $id) {\n      id\n      status\n    }\n  }\n": types.ConsoleCancelDeliveryDocument,
    "\n  query ConsoleNewTicketSupport {\n    me {\n      id\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n  }\n": types.ConsoleNewTicketSupportDocument,
    "\n  mutation ConsoleCreateTicket($input: CreateTicketInput!) {\n    createTicket(input: $input) {\n      id\n    }\n  }\n": types.ConsoleCreateTicketDocument,
    "\n  query ConsoleRule($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n": types.ConsoleRuleDocument,
    "\n  query ConsoleRuleNow($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n": types.ConsoleRuleNowDocument,
    "\n  query ConsoleRuleEditorSupport {\n    webhooks {\n      id\n      name\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n    events: __type(name: \"TicketEvent\") {\n      enumValues {\n        name\n      }\n    }\n  }\n": types.ConsoleRuleEditorSupportDocument,
    "\n  query ConsoleRuleFields {\n    ruleFields {\n      name\n      type\n      description\n      operators\n      options\n    }\n  }\n": types.ConsoleRuleFieldsDocument,
    "\n  mutation ConsoleCreateRule($input: RuleInput!) {\n    createRule(input: $input) {\n      id\n    }\n  }\n": types.ConsoleCreateRuleDocument,
    "\n  mutation ConsoleDeleteRule($id: ID!) {\n    deleteRule(id: $id)\n  }\n": types.ConsoleDeleteRuleDocument,
    "\n  query ConsoleRules {\n    rules {\n      ...ConsoleRuleDefinition\n    }\n  }\n": types.ConsoleRulesDocument,
    "\n  mutation ConsoleUpdateRule($id: ID!, $input: RuleInput!) {\n    updateRule(id: $id, input: $input) {\n      ...ConsoleRuleDefinition\n    }\n  }\n": types.ConsoleUpdateRuleDocument,
    "\n  query ConsoleTicket($id: ID!) {\n    ticket(id: $id) {\n      id\n      title\n      description\n      status\n      priority\n      customFields\n      createdAt\n      updatedAt\n      requester {\n        id\n        name\n        email\n      }\n      assignee {\n        id\n        name\n      }\n      parent {\n        id\n        title\n      }\n      posts {\n        id\n        kind\n        text\n        createdAt\n        author {\n          id\n          name\n        }\n      }\n    }\n    customFields {\n      key\n      name\n    }\n  }\n": types.ConsoleTicketDocument,
    "\n  query ConsoleTicketDeliveries($ticketId: ID!) {\n    deliveries(filter: { ticketId: $ticketId }, first: 20) {\n      nodes {\n        id\n        status\n        attemptCount\n        createdAt\n        webhook {\n          id\n          name\n        }\n        request {\n          url\n        }\n      }\n      totalCount\n    }\n  }\n": types.ConsoleTicketDeliveriesDocument,
    "\n  mutation ConsoleAddReply($ticketId: ID!, $text: String!) {\n    addReply(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n": types.ConsoleAddReplyDocument,
    "\n  mutation ConsoleAddComment($ticketId: ID!, $text: String!) {\n    addComment(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n": types.ConsoleAddCommentDocument,
    "\n  mutation ConsoleUpdateTicket($id: ID!, $input: UpdateTicketInput!) {\n    updateTicket(id: $id, input: $input) {\n      id\n      status\n      priority\n      updatedAt\n    }\n  }\n": types.ConsoleUpdateTicketDocument,
    "\n  query ConsoleTickets($status: TicketStatus, $first: Int, $offset: Int) {\n    tickets(status: $status, first: $first, offset: $offset) {\n      id\n      title\n      status\n      priority\n      updatedAt\n      requester {\n        id\n        name\n      }\n      assignee {\n        id\n        name\n      }\n    }\n  }\n": types.ConsoleTicketsDocument,
    "\n  fragment ConsoleWebhookPolicy on Webhook {\n    enabled\n    signing {\n      enabled\n      secretSet\n      previousSecretValidUntil\n    }\n    successRule {\n      statuses\n      path\n      operator\n      value\n      onFailure\n    }\n    ordering\n    maxConcurrency\n    rateLimitPerSecond\n    health {\n      disabledReason\n      disabledAt\n    }\n  }\n": types.ConsoleWebhookPolicyFragmentDoc,
    "\n  fragment ConsoleWebhookDefinition on Webhook {\n    id\n    name\n    method\n    url\n    format\n    body\n    headers {\n      name\n      value\n      secret\n    }\n    auth {\n      type\n      username\n      secretSet\n    }\n    responseMappings {\n      path\n      target\n      field\n    }\n    successComment\n    ...ConsoleWebhookPolicy\n  }\n": types.ConsoleWebhookDefinitionFragmentDoc,
    "\n  query ConsoleWebhook($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n": types.ConsoleWebhookDocument,
    "\n  query ConsoleWebhookNow($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n": types.ConsoleWebhookNowDocument,
    "\n  query ConsoleWebhookEditorSupport {\n    templateTags {\n      name\n      description\n      example\n    }\n    tickets(first: 50) {\n      id\n      title\n    }\n  }\n": types.ConsoleWebhookEditorSupportDocument,
    "\n  mutation ConsoleCreateWebhook($input: WebhookInput!) {\n    createWebhook(input: $input) {\n      id\n    }\n  }\n": types.ConsoleCreateWebhookDocument,
    "\n  mutation ConsoleUpdateWebhook($id: ID!, $input: WebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n": types.ConsoleUpdateWebhookDocument,
    "\n  query ConsoleWebhookEnabled($id: ID!) {\n    webhook(id: $id) {\n      id\n      enabled\n    }\n  }\n": types.ConsoleWebhookEnabledDocument,
    "\n  mutation ConsoleRotateSigningSecret($webhookId: ID!) {\n    rotateSigningSecret(webhookId: $webhookId) {\n      secret\n      previousSecretValidUntil\n    }\n  }\n": types.ConsoleRotateSigningSecretDocument,
    "\n  mutation ConsoleEnableWebhook($id: ID!) {\n    enableWebhook(id: $id) {\n      id\n      enabled\n      health {\n        disabledReason\n        disabledAt\n      }\n    }\n  }\n": types.ConsoleEnableWebhookDocument,
    "\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n": types.ConsoleDeleteWebhookDocument,
    "\n  mutation ConsoleTestWebhook($id: ID!, $ticketId: ID!) {\n    testWebhook(id: $id, ticketId: $ticketId) {\n      id\n      status\n    }\n  }\n": types.ConsoleTestWebhookDocument,
    "\n  query ConsoleWebhooks {\n    webhooks {\n      id\n      name\n      method\n      url\n      enabled\n      health {\n        breaker\n        recentAttempts\n        recentFailureRate\n        disabledReason\n      }\n      stats(hours: 24) {\n        succeeded\n        failed\n        successRate\n        buckets {\n          start\n          succeeded\n          failed\n        }\n      }\n    }\n  }\n": types.ConsoleWebhooksDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleDeliveryChanges($filter: DeliveryFilter) {\n    deliveryEvents(filter: $filter) {\n      type\n      delivery {\n        id\n        status\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ConsoleDeliveryChanges($filter: DeliveryFilter) {\n    deliveryEvents(filter: $filter) {\n      type\n      delivery {\n        id\n        status\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhookHealth($id: ID!) {\n    webhook(id: $id) {\n      id\n      health {\n        breaker\n        openedAt\n        recentAttempts\n        recentFailureRate\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhookHealth($id: ID!) {\n    webhook(id: $id) {\n      id\n      health {\n        breaker\n        openedAt\n        recentAttempts\n        recentFailureRate\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ConsoleRuleDefinition on Rule {\n    id\n    name\n    description\n    enabled\n    position\n    continueAfterMatch\n    events\n    match\n    conditions {\n      field\n      operator\n      value\n    }\n    actions {\n      type\n      webhook {\n        id\n        name\n      }\n      field\n      value\n      awaitResponse\n    }\n  }\n"): (typeof documents)["\n  fragment ConsoleRuleDefinition on Rule {\n    id\n    name\n    description\n    enabled\n    position\n    continueAfterMatch\n    events\n    match\n    conditions {\n      field\n      operator\n      value\n    }\n    actions {\n      type\n      webhook {\n        id\n        name\n      }\n      field\n      value\n      awaitResponse\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleDeliveries($filter: DeliveryFilter, $first: Int, $after: String) {\n    deliveries(filter: $filter, first: $first, after: $after) {\n      nodes {\n        id\n        status\n        event\n        attemptCount\n        createdAt\n        completedAt\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n          title\n        }\n        request {\n          method\n          url\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query ConsoleDeliveries($filter: DeliveryFilter, $first: Int, $after: String) {\n    deliveries(filter: $filter, first: $first, after: $after) {\n      nodes {\n        id\n        status\n        event\n        attemptCount\n        createdAt\n        completedAt\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n          title\n        }\n        request {\n          method\n          url\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhookNames {\n    webhooks {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhookNames {\n    webhooks {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleRuleNames {\n    rules {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query ConsoleRuleNames {\n    rules {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleNewestMatching($filter: DeliveryFilter) {\n    deliveries(filter: $filter, first: 1) {\n      nodes {\n        id\n        createdAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleNewestMatching($filter: DeliveryFilter) {\n    deliveries(filter: $filter, first: 1) {\n      nodes {\n        id\n        createdAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRedeliverMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: redeliverMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleRedeliverMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: redeliverMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCancelMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: cancelMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleCancelMany($filter: DeliveryFilter!, $dryRun: Boolean!) {\n    result: cancelMany(filter: $filter, dryRun: $dryRun) {\n      matched\n      queued\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleLiveDeliveries {\n    deliveryEvents {\n      type\n      at\n      delivery {\n        id\n        status\n        attemptCount\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n        }\n        request {\n          method\n          url\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ConsoleLiveDeliveries {\n    deliveryEvents {\n      type\n      at\n      delivery {\n        id\n        status\n        attemptCount\n        webhook {\n          id\n          name\n        }\n        ticket {\n          id\n        }\n        request {\n          method\n          url\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleDelivery($id: ID!) {\n    delivery(id: $id) {\n      id\n      status\n      event\n      attemptCount\n      nextAttemptAt\n      createdAt\n      completedAt\n      responseData\n      webhook {\n        id\n        name\n      }\n      ticket {\n        id\n        title\n      }\n      rule {\n        id\n        name\n      }\n      request {\n        method\n        url\n        headers\n        body\n      }\n      attempts {\n        number\n        startedAt\n        durationMs\n        statusCode\n        error\n        responseBody\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleDelivery($id: ID!) {\n    delivery(id: $id) {\n      id\n      status\n      event\n      attemptCount\n      nextAttemptAt\n      createdAt\n      completedAt\n      responseData\n      webhook {\n        id\n        name\n      }\n      ticket {\n        id\n        title\n      }\n      rule {\n        id\n        name\n      }\n      request {\n        method\n        url\n        headers\n        body\n      }\n      attempts {\n        number\n        startedAt\n        durationMs\n        statusCode\n        error\n        responseBody\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRedeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleRedeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCancelDelivery($id: ID!) {\n    cancelDelivery(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleCancelDelivery($id: ID!) {\n    cancelDelivery(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleNewTicketSupport {\n    me {\n      id\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n  }\n"): (typeof documents)["\n  query ConsoleNewTicketSupport {\n    me {\n      id\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateTicket($input: CreateTicketInput!) {\n    createTicket(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleCreateTicket($input: CreateTicketInput!) {\n    createTicket(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleRule($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n"): (typeof documents)["\n  query ConsoleRule($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleRuleNow($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n"): (typeof documents)["\n  query ConsoleRuleNow($id: ID!) {\n    rule(id: $id) {\n      ...ConsoleRuleDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleRuleEditorSupport {\n    webhooks {\n      id\n      name\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n    events: __type(name: \"TicketEvent\") {\n      enumValues {\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleRuleEditorSupport {\n    webhooks {\n      id\n      name\n    }\n    users {\n      id\n      name\n      email\n      role\n    }\n    customFields {\n      key\n      name\n      type\n      options\n    }\n    events: __type(name: \"TicketEvent\") {\n      enumValues {\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleRuleFields {\n    ruleFields {\n      name\n      type\n      description\n      operators\n      options\n    }\n  }\n"): (typeof documents)["\n  query ConsoleRuleFields {\n    ruleFields {\n      name\n      type\n      description\n      operators\n      options\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateRule($input: RuleInput!) {\n    createRule(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleCreateRule($input: RuleInput!) {\n    createRule(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeleteRule($id: ID!) {\n    deleteRule(id: $id)\n  }\n"): (typeof documents)["\n  mutation ConsoleDeleteRule($id: ID!) {\n    deleteRule(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleRules {\n    rules {\n      ...ConsoleRuleDefinition\n    }\n  }\n"): (typeof documents)["\n  query ConsoleRules {\n    rules {\n      ...ConsoleRuleDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUpdateRule($id: ID!, $input: RuleInput!) {\n    updateRule(id: $id, input: $input) {\n      ...ConsoleRuleDefinition\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleUpdateRule($id: ID!, $input: RuleInput!) {\n    updateRule(id: $id, input: $input) {\n      ...ConsoleRuleDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleTicket($id: ID!) {\n    ticket(id: $id) {\n      id\n      title\n      description\n      status\n      priority\n      customFields\n      createdAt\n      updatedAt\n      requester {\n        id\n        name\n        email\n      }\n      assignee {\n        id\n        name\n      }\n      parent {\n        id\n        title\n      }\n      posts {\n        id\n        kind\n        text\n        createdAt\n        author {\n          id\n          name\n        }\n      }\n    }\n    customFields {\n      key\n      name\n    }\n  }\n"): (typeof documents)["\n  query ConsoleTicket($id: ID!) {\n    ticket(id: $id) {\n      id\n      title\n      description\n      status\n      priority\n      customFields\n      createdAt\n      updatedAt\n      requester {\n        id\n        name\n        email\n      }\n      assignee {\n        id\n        name\n      }\n      parent {\n        id\n        title\n      }\n      posts {\n        id\n        kind\n        text\n        createdAt\n        author {\n          id\n          name\n        }\n      }\n    }\n    customFields {\n      key\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleTicketDeliveries($ticketId: ID!) {\n    deliveries(filter: { ticketId: $ticketId }, first: 20) {\n      nodes {\n        id\n        status\n        attemptCount\n        createdAt\n        webhook {\n          id\n          name\n        }\n        request {\n          url\n        }\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query ConsoleTicketDeliveries($ticketId: ID!) {\n    deliveries(filter: { ticketId: $ticketId }, first: 20) {\n      nodes {\n        id\n        status\n        attemptCount\n        createdAt\n        webhook {\n          id\n          name\n        }\n        request {\n          url\n        }\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleAddReply($ticketId: ID!, $text: String!) {\n    addReply(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleAddReply($ticketId: ID!, $text: String!) {\n    addReply(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleAddComment($ticketId: ID!, $text: String!) {\n    addComment(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleAddComment($ticketId: ID!, $text: String!) {\n    addComment(ticketId: $ticketId, text: $text) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUpdateTicket($id: ID!, $input: UpdateTicketInput!) {\n    updateTicket(id: $id, input: $input) {\n      id\n      status\n      priority\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleUpdateTicket($id: ID!, $input: UpdateTicketInput!) {\n    updateTicket(id: $id, input: $input) {\n      id\n      status\n      priority\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleTickets($status: TicketStatus, $first: Int, $offset: Int) {\n    tickets(status: $status, first: $first, offset: $offset) {\n      id\n      title\n      status\n      priority\n      updatedAt\n      requester {\n        id\n        name\n      }\n      assignee {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleTickets($status: TicketStatus, $first: Int, $offset: Int) {\n    tickets(status: $status, first: $first, offset: $offset) {\n      id\n      title\n      status\n      priority\n      updatedAt\n      requester {\n        id\n        name\n      }\n      assignee {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ConsoleWebhookPolicy on Webhook {\n    enabled\n    signing {\n      enabled\n      secretSet\n      previousSecretValidUntil\n    }\n    successRule {\n      statuses\n      path\n      operator\n      value\n      onFailure\n    }\n    ordering\n    maxConcurrency\n    rateLimitPerSecond\n    health {\n      disabledReason\n      disabledAt\n    }\n  }\n"): (typeof documents)["\n  fragment ConsoleWebhookPolicy on Webhook {\n    enabled\n    signing {\n      enabled\n      secretSet\n      previousSecretValidUntil\n    }\n    successRule {\n      statuses\n      path\n      operator\n      value\n      onFailure\n    }\n    ordering\n    maxConcurrency\n    rateLimitPerSecond\n    health {\n      disabledReason\n      disabledAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ConsoleWebhookDefinition on Webhook {\n    id\n    name\n    method\n    url\n    format\n    body\n    headers {\n      name\n      value\n      secret\n    }\n    auth {\n      type\n      username\n      secretSet\n    }\n    responseMappings {\n      path\n      target\n      field\n    }\n    successComment\n    ...ConsoleWebhookPolicy\n  }\n"): (typeof documents)["\n  fragment ConsoleWebhookDefinition on Webhook {\n    id\n    name\n    method\n    url\n    format\n    body\n    headers {\n      name\n      value\n      secret\n    }\n    auth {\n      type\n      username\n      secretSet\n    }\n    responseMappings {\n      path\n      target\n      field\n    }\n    successComment\n    ...ConsoleWebhookPolicy\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhook($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhook($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhookNow($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhookNow($id: ID!) {\n    webhook(id: $id) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhookEditorSupport {\n    templateTags {\n      name\n      description\n      example\n    }\n    tickets(first: 50) {\n      id\n      title\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhookEditorSupport {\n    templateTags {\n      name\n      description\n      example\n    }\n    tickets(first: 50) {\n      id\n      title\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateWebhook($input: WebhookInput!) {\n    createWebhook(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleCreateWebhook($input: WebhookInput!) {\n    createWebhook(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUpdateWebhook($id: ID!, $input: WebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleUpdateWebhook($id: ID!, $input: WebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...ConsoleWebhookDefinition\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhookEnabled($id: ID!) {\n    webhook(id: $id) {\n      id\n      enabled\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhookEnabled($id: ID!) {\n    webhook(id: $id) {\n      id\n      enabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRotateSigningSecret($webhookId: ID!) {\n    rotateSigningSecret(webhookId: $webhookId) {\n      secret\n      previousSecretValidUntil\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleRotateSigningSecret($webhookId: ID!) {\n    rotateSigningSecret(webhookId: $webhookId) {\n      secret\n      previousSecretValidUntil\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleEnableWebhook($id: ID!) {\n    enableWebhook(id: $id) {\n      id\n      enabled\n      health {\n        disabledReason\n        disabledAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleEnableWebhook($id: ID!) {\n    enableWebhook(id: $id) {\n      id\n      enabled\n      health {\n        disabledReason\n        disabledAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n"): (typeof documents)["\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleTestWebhook($id: ID!, $ticketId: ID!) {\n    testWebhook(id: $id, ticketId: $ticketId) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleTestWebhook($id: ID!, $ticketId: ID!) {\n    testWebhook(id: $id, ticketId: $ticketId) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhooks {\n    webhooks {\n      id\n      name\n      method\n      url\n      enabled\n      health {\n        breaker\n        recentAttempts\n        recentFailureRate\n        disabledReason\n      }\n      stats(hours: 24) {\n        succeeded\n        failed\n        successRate\n        buckets {\n          start\n          succeeded\n          failed\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleWebhooks {\n    webhooks {\n      id\n      name\n      method\n      url\n      enabled\n      health {\n        breaker\n        recentAttempts\n        recentFailureRate\n        disabledReason\n      }\n      stats(hours: 24) {\n        succeeded\n        failed\n        successRate\n        buckets {\n          start\n          succeeded\n          failed\n        }\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;