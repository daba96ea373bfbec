// test/bundlers/webpack-build.mjs APP: runs webpack (the repository's, through its Node API: webpack-cli is not a
// dependency) on APP/webpack.config.js with APP as the context, as `npx webpack` run in APP would; prints the
// emitted assets, or the errors and exit 1.
import { pathToFileURL } from "node:url";
import { join, resolve } from "node:path";
import webpack from "webpack";

const app = resolve(process.argv[2]);
const { default: config } = await import(pathToFileURL(join(app, "webpack.config.js")).href);
webpack({ ...config, context: app }, (err, stats) => {
  if (err) {
    console.error(err.stack ?? String(err));
    process.exit(1);
  }
  const info = stats.toJson({ assets: true, errors: true, warnings: true });
  for (const w of info.warnings ?? []) console.error(`warning: ${w.message}`);
  if (stats.hasErrors()) {
    for (const e of info.errors ?? []) console.error(e.message);
    process.exit(1);
  }
  console.log(JSON.stringify(info.assets.map((a) => a.name)));
});
