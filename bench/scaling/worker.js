/** Worker entry: workers do not inherit `-r`, so install the TypeScript hook, then run worker.ts. */
"use strict";
require("../register.js");
require("./worker.ts");
