/** `welcome` at a joining node: the seed let it in and sent its table. */
import type { MembershipContext } from "../membership-context";
import type { MembershipMessage } from "../messages";

export function handleWelcome(
  context: MembershipContext,
  message: Extract<MembershipMessage, { kind: "welcome" }>,
): void {
  context.mergeEntries(message.members);
  context.joinAnswered({ welcomed: true });
}
