/** Command-line options of `npm run tour`: --quick and --out <dir>. */
import { InvalidArgumentError } from "../../src/index.js";

export interface TourArgs {
  quick: boolean;
  outDir: string;
}

/** Parses the arguments after `npm run tour --`; defaultOut is used without --out. */
export function parseTourArgs(argv: readonly string[], defaultOut: string): TourArgs {
  let quick = false;
  let outDir = defaultOut;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--out") {
      const dir = argv[++i];
      if (dir === undefined || dir.startsWith("--")) {
        throw new InvalidArgumentError(
          "tour: --out needs a directory after it, e.g. `npm run tour -- --out /tmp/tour`",
        );
      }
      outDir = dir;
    } else {
      throw new InvalidArgumentError(
        `tour: unknown argument "${a}"; the tour takes --quick (smaller grids) and --out <dir>`,
      );
    }
  }
  return { quick, outDir };
}
