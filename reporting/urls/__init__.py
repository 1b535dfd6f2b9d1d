"""reporting's URL modules, one per mount point in kahoku_dx.urls (/plan/, /excel/, /public/); the drafting routes are included by plan."""
