//! Login floods and exports opened in a spreadsheet: the unauthenticated web client and what it may plant.
