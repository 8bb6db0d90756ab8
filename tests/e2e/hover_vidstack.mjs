// Hovers over a Vidstack time slider (its web components, thumbnails from a VTT) at given
// fractions of its width and screenshots the preview thumbnail shown each time.
// Usage: node hover_vidstack.mjs URL OUTDIR FRACTION...   Prints one JSON line: [{fraction, file}].
import { launch } from './browser.mjs';

const [url, outDir, ...fractions] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1040, height: 700 } });
  // Nothing past this machine: a request elsewhere is refused, and fails the run.
  const outside = [];
  await page.route('**/*', (route) => {
    const target = route.request().url();
    if (target.startsWith('http://127.0.0.1')) return route.continue();
    outside.push(target);
    return route.abort();
  });
  await page.goto(url);
  await page.waitForFunction(() => {
    const player = document.querySelector('media-player');
    return player && player.state && player.state.duration > 0;
  }, null, { timeout: 30000 });
  const bar = await page.locator('media-time-slider').boundingBox();
  const results = [];
  let last = null;
  for (const [i, fraction] of fractions.entries()) {
    await page.mouse.move(bar.x + bar.width * Number(fraction), bar.y + bar.height / 2, { steps: 4 });
    // Wait until the preview shows a loaded sheet, moved to this cue's cell.
    await page.waitForFunction((previous) => {
      const img = document.querySelector('media-slider-thumbnail img');
      return img && img.complete && img.naturalWidth > 0 && img.style.transform !== previous;
    }, last, { timeout: 5000 }).catch(() => {});  // the same cell as the last hover
    last = await page.evaluate(() => document.querySelector('media-slider-thumbnail img').style.transform);
    await page.waitForTimeout(200);
    const file = `${outDir}/vidstack-${i}.png`;
    await page.locator('media-slider-thumbnail').screenshot({ path: file });
    results.push({ fraction: Number(fraction), file });
  }
  if (outside.length) throw new Error(`the page reached past this machine: ${outside.join(' ')}`);
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
}
