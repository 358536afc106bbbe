import { benchW2 } from "./w2.js";
await benchW2({ quick: true });
