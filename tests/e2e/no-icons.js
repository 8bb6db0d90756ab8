// Stands in for Vidstack's icon module from its CDN: the test page shows no icons.
export {};
