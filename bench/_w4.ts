import { benchW4 } from "./w4.js";
await benchW4({ quick: true });
