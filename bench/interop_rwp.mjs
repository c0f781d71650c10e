// Opens pages of a WACZ in ReplayWeb.page (its ui.js and sw.js, served from loopback) in headless
// Chromium driven by playwright-core; prints one JSON object: what each page showed.  A check with a
// `direct` URL opens that URL itself (pywb's framed replay of a page, `<ts>/<url>`) and reads the frame
// the page is shown in (`<ts>mp_/<url>`).
// Used by bench/interop.py:  node interop_rwp.mjs CHECKS.json  (see that script for the format).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const spec = JSON.parse(readFileSync(process.argv[2], "utf-8"));
const require = createRequire(spec.node_modules + "/");
const { chromium } = require("playwright-core");

// A fresh profile directory per run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(spec.profile, {
  executablePath: spec.chromium,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || await context.newPage();
const results = [];
const started = Date.now();

function replayFrame(url) {
  // The innermost frame ReplayWeb.page shows the archived page in: .../w/<coll>/<ts>mp_/<url>
  return page.frames().find((f) => f.url().includes("mp_/") && f.url().includes(url.replace(/^https?:\/\//, "")));
}

for (const check of spec.checks) {
  const t0 = Date.now();
  const result = { url: check.url, ts: check.ts, kind: check.kind };
  try {
    const target = check.direct || `${spec.base}/embed.html?url=${encodeURIComponent(check.url)}&ts=${check.ts}`;
    const answer = await page.goto(target, { waitUntil: "load", timeout: 60000 });
    if (check.direct) result.status = answer ? answer.status() : null;
    let frame = null;
    const deadline = Date.now() + spec.timeout_ms;
    let seen = null;
    let reloaded = false;
    while (Date.now() < deadline) {
      frame = replayFrame(check.url);
      if (!frame && !reloaded && Date.now() - t0 > 15000) {
        // Seen once in CI on a loaded machine: the first page's replay frame never appeared (the
        // service worker did not take control of the first load). A reload, once, is what a person
        // would do; the result says it happened.
        reloaded = true;
        result.reloaded = true;
        await page.reload({ waitUntil: "load", timeout: 60000 });
        continue;
      }
      if (frame) {
        try {
          seen = await frame.evaluate((wanted) => {
            const imgs = Array.from(document.images);
            // Lazy images below the (headless) fold would never load: ask for them now.
            for (const i of imgs) if (i.loading === "lazy") i.loading = "eager";
            // The article's own images (as archived), by their original URL inside the rewritten src.
            const shown = wanted.filter((url) => imgs.some((i) => (i.currentSrc || i.src).includes(url)
                                                              && i.complete && i.naturalWidth > 0));
            return {
              ready: document.readyState,
              title: document.title,
              h1: ((document.querySelector("h1.title-detail, h1.margintopbot10, h1") || {}).textContent || "").trim(),
              text: document.body ? document.body.innerText.length : 0,
              images: imgs.length,
              loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
              article_images_shown: shown.length,
              // Stylesheets the page links and how many loaded with rules (issue 20 item 5).
              stylesheets: document.querySelectorAll('link[rel~="stylesheet"]').length,
              stylesheets_loaded: Array.from(document.styleSheets).filter((s) => {
                try { return s.href && s.cssRules.length > 0; } catch (e) { return false; }
              }).length,
            };
          }, (check.image_urls || []).map((u) => u.replace(/^https?:\/\//, "")));
          const imagesOk = !check.image_urls || seen.article_images_shown >= check.image_urls.length;
          if (seen.ready === "complete" && seen.title && imagesOk) break;
        } catch (e) { /* the frame navigated meanwhile */ }
      }
      await page.waitForTimeout(250);
    }
    Object.assign(result, seen || { title: "", text: 0, images: 0, loaded: 0 });
    result.frame = frame ? frame.url() : null;
    if (frame && seen) {
      // What a person sees once the page has settled: every image given up to 3 s to load (lazy ones asked
      // for), every stylesheet the page links loaded with its rules readable.
      try {
        Object.assign(result, await frame.evaluate(async () => {
          const imgs = Array.from(document.images).filter((i) => i.getAttribute("src") || i.getAttribute("srcset"));
          for (const i of imgs) if (i.loading === "lazy") i.loading = "eager";
          const settled = (i) => i.complete ? null : new Promise((r) => { i.addEventListener("load", r); i.addEventListener("error", r); });
          await Promise.race([Promise.all(imgs.map(settled)), new Promise((r) => setTimeout(r, 3000))]);
          const links = Array.from(document.querySelectorAll('link[rel~="stylesheet"]'));
          const readable = (l) => { try { return !!l.sheet && l.sheet.cssRules.length > 0; } catch (e) { return false; } };
          return {
            images: imgs.length,
            loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
            not_loaded: imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.currentSrc || i.src).slice(0, 5),
            stylesheets: links.length,
            stylesheets_loaded: links.filter(readable).length,
            text: document.body ? document.body.innerText.length : 0,
          };
        }));
      } catch (e) { result.settle_error = String(e); }
    }
    if (frame && !check.direct) {
      // The payload ReplayWeb.page serves for this URL at this time, unrewritten (id_): its sha256 tells
      // which version was shown.
      const raw = frame.url().replace(/\/(\d+)mp_\//, `/${check.ts}id_/`);
      result.payload = await frame.evaluate(async (u) => {
        try {
          const r = await fetch(u);
          const b = await r.arrayBuffer();
          const h = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", b)))
            .map((x) => x.toString(16).padStart(2, "0")).join("");
          return { status: r.status, bytes: b.byteLength, sha256: h };
        } catch (e) { return { error: String(e) }; }
      }, raw);
    }
    if (check.screenshot) {
      // The article's body in view (its text under the page's stylesheet), not only the page's top.
      if (frame) {
        try {
          await frame.evaluate(() => {
            const body = document.querySelector("h1") || document.querySelector("article");
            if (body) body.scrollIntoView({ block: "start" });
            window.scrollBy(0, -20);
          });
          await page.waitForTimeout(500);
        } catch (e) { /* shown as it is */ }
      }
      await page.screenshot({ path: check.screenshot, fullPage: false });
    }
  } catch (e) {
    result.error = String(e);
  }
  result.ms = Date.now() - t0;
  results.push(result);
}
await context.close();
console.log(JSON.stringify({ seconds: (Date.now() - started) / 1000, results }));
