// Commune session profile (defence in depth: the system policies say the same).
user_pref("browser.privatebrowsing.autostart", true);
user_pref("signon.rememberSignons", false);
user_pref("browser.formfill.enable", false);
user_pref("browser.download.dir", "");
user_pref("browser.download.useDownloadDir", false);
user_pref("browser.shell.checkDefaultBrowser", false);
