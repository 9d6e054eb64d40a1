/**
 * Regenerates fixtures/ds01-infra/<case>.expected.json from ds01-infra's real parser:
 *   node packages/config/test/resourceLimits/regenerateParityFixtures.ts
 * (needs python3 with PyYAML and a ds01-infra repository; see ds01InfraParser.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ds01InfraCommit, runDs01InfraParser, unavailableReason } from './ds01InfraParser.ts';
import { expectedFile, fixturesDir, parityCases } from './parityCases.ts';

const reason = unavailableReason();
if (reason) {
  process.stderr.write(`cannot run ds01-infra's parser: ${reason}\n`);
  process.exit(1);
}
for (const parityCase of parityCases) {
  const users = runDs01InfraParser(join(fixturesDir, parityCase.name), parityCase.users);
  const document = {
    generatedBy: `get_resource_limits.py USER --json/--group/--docker-args at ${ds01InfraCommit}`,
    users,
  };
  writeFileSync(expectedFile(parityCase.name), `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`${expectedFile(parityCase.name)}: ${parityCase.users.length} users\n`);
}
