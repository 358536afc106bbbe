/** Command-line options of `npm run tour`: --quick, --out <dir>, --serve and --port <n>. */
import { InvalidArgumentError } from "../../src/index.js";

export interface TourArgs {
  quick: boolean;
  outDir: string;
  /** Also build the playground and serve the folder over HTTP. */
  serve: boolean;
  port: number;
}

/** Parses the arguments after `npm run tour --`; defaultOut is used without --out. */
export function parseTourArgs(argv: readonly string[], defaultOut: string): TourArgs {
  let quick = false;
  let outDir = defaultOut;
  let serve = false;
  let port = 8173;
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
    } else if (a === "--serve") serve = true;
    else if (a === "--port") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        throw new InvalidArgumentError(
          `tour: --port needs a port number (0-65535) after it, e.g. --port 8173`,
        );
      }
      port = n;
    } else {
      throw new InvalidArgumentError(
        `tour: unknown argument "${a}"; the tour takes --quick (smaller grids), --out <dir>, --serve and --port <n>`,
      );
    }
  }
  return { quick, outDir, serve, port };
}
