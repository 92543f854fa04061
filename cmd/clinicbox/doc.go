// Command clinicbox is the appliance: one binary that serves the clinic's
// pages and APIs, reads its instruments and keeps everything in one SQLite
// file. This package owns the configuration (flags with CLINICBOX_*
// fallbacks, validated in one place), the wiring of store, web, devices,
// video and reports, and the subcommands (serve, migrate, backup, user,
// apikey, client, device, simulate, ...).
package main
