/** `refused` at a joining node: the seed will not let it in, and says why. */
import type { MembershipContext } from "../membership-context";
import type { MembershipMessage } from "../messages";

export function handleRefused(
  context: MembershipContext,
  message: Extract<MembershipMessage, { kind: "refused" }>,
): void {
  context.joinAnswered({ welcomed: false, reason: `${message.from} refused to let this node in: ${message.reason}` });
}
