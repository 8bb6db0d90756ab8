// Hovers over video.js's progress bar (with the videojs-vtt-thumbnails plugin) at given
// fractions of its width and screenshots the thumbnail shown each time.
// Usage: node hover_videojs.mjs URL OUTDIR FRACTION...   Prints one JSON line: [{fraction, file}].
import { launch } from './browser.mjs';

const [url, outDir, ...fractions] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1040, height: 700 } });
  await page.goto(url);
  await page.waitForFunction(() => window.player && window.player.duration() > 0, null, { timeout: 30000 });
  // The plugin fetches the VTT, then adds its thumbnail holder to the progress bar.
  await page.waitForSelector('.vjs-vtt-thumbnail-display', { state: 'attached', timeout: 30000 });
  // video.js shows its control bar once playback has started: start it, muted, and pause.
  await page.evaluate(async () => {
    window.player.muted(true);
    await window.player.play();
    window.player.pause();
    window.player.currentTime(0);
    window.player.userActive(true);
  });
  await page.mouse.move(500, 300);
  await page.waitForSelector('.vjs-progress-control', { state: 'visible', timeout: 15000 });
  const bar = await page.locator('.vjs-progress-control').boundingBox();
  const results = [];
  for (const [i, fraction] of fractions.entries()) {
    await page.evaluate(() => window.player.userActive(true));
    await page.mouse.move(bar.x + bar.width * Number(fraction), bar.y + bar.height / 2, { steps: 4 });
    await page.waitForFunction(() => {
      const holder = document.querySelector('.vjs-vtt-thumbnail-display');
      return holder && holder.style.opacity === '1' && holder.style.backgroundImage.includes('sprite-');
    }, null, { timeout: 15000 });
    // The sheet is a CSS background: wait until the browser has it.
    await page.evaluate(async () => {
      const holder = document.querySelector('.vjs-vtt-thumbnail-display');
      const src = holder.style.backgroundImage.slice(5, -2);
      const image = new Image();
      image.src = src;
      await image.decode();
    });
    await page.waitForTimeout(250);  // the holder slides into place
    const file = `${outDir}/videojs-${i}.png`;
    await page.locator('.vjs-vtt-thumbnail-display').screenshot({ path: file });
    results.push({ fraction: Number(fraction), file });
  }
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
}
