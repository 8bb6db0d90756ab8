// Hovers over Plyr's seek bar at given fractions of the duration and screenshots the preview
// thumbnail shown each time. Usage: node hover.mjs URL OUTDIR FRACTION...
// Prints one JSON line: [{fraction, time, file}], where time is what Plyr computed for the hover.
import { launch } from './browser.mjs';

const [url, outDir, ...fractions] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1040, height: 700 } });
  await page.goto(url);
  await page.waitForFunction(() => window.player && window.player.duration > 0, null, { timeout: 30000 });
  // Plyr fetches the VTT and the first sheet itself; wait until it has parsed the track.
  await page.waitForFunction(() => window.player.previewThumbnails?.loaded, null, { timeout: 30000 });
  const bar = await page.locator('.plyr__progress').boundingBox();
  const results = [];
  for (const [i, fraction] of fractions.entries()) {
    await page.mouse.move(bar.x + bar.width * Number(fraction), bar.y + bar.height / 2, { steps: 4 });
    const container = page.locator('.plyr__preview-thumb__image-container');
    await page.waitForFunction(() => {
      const img = document.querySelector('.plyr__preview-thumb__image-container img');
      return document.querySelector('.plyr__preview-thumb--is-shown') && img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 15000 });
    await page.waitForTimeout(300);  // Plyr swaps images with a short fade
    const file = `${outDir}/preview-${i}.png`;
    await container.screenshot({ path: file });
    const time = await page.evaluate(() => window.player.previewThumbnails.seekTime);
    results.push({ fraction: Number(fraction), time, file });
    await page.mouse.move(5, 5);
    await page.waitForTimeout(150);
  }
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
}
