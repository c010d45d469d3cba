/**
 * Integration tests need real services (sshd, dockerd...). On a developer's laptop a missing
 * service skips the test with a visible reason; in CI (OPSMATE_REQUIRE_INTEGRATION=1) it fails.
 *
 * Usage: `describe('ssh', { skip: integrationSkip('sshd', sshdMissingReason()) }, ...)`.
 * Returns false when the test should run, or the reason text for node:test's `skip`.
 */
export function integrationSkip(service: string, missingReason: string | undefined): string | false {
  if (missingReason === undefined) return false;
  const reason = `${service} unavailable: ${missingReason}`;
  if (process.env.OPSMATE_REQUIRE_INTEGRATION === '1') {
    throw new Error(`${reason} (OPSMATE_REQUIRE_INTEGRATION=1 requires it; .ci/run installs and starts it)`);
  }
  process.stderr.write(`# SKIP ${reason}\n`);
  return reason;
}
