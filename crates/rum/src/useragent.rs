//! A small user-agent parser: the browser, the operating system and the device class of the
//! user agents that make up nearly all real traffic, and whether it is a bot or a test
//! browser. It reads a handful of well-known product tokens in a fixed order; anything it does
//! not know stays unknown rather than guessed.

/// What a user agent string says about the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgent {
    pub browser_name: Option<String>,
    pub browser_version: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub device: DeviceType,
    /// A crawler, an HTTP library, a monitor or a test browser: not a person.
    pub synthetic: Option<Synthetic>,
}

/// The device class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceType {
    #[default]
    Desktop,
    Mobile,
    Tablet,
    Bot,
}

impl DeviceType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Desktop => "desktop",
            DeviceType::Mobile => "mobile",
            DeviceType::Tablet => "tablet",
            DeviceType::Bot => "bot",
        }
    }
}

/// The values of the semantic convention `user_agent.synthetic.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synthetic {
    /// Crawlers, link previews, uptime monitors and HTTP libraries.
    Bot,
    /// Headless and automated browsers (Lighthouse, Playwright, Puppeteer, Selenium...).
    Test,
}

impl Synthetic {
    pub fn as_str(self) -> &'static str {
        match self {
            Synthetic::Bot => "bot",
            Synthetic::Test => "test",
        }
    }
}

/// Substrings (lowercase) that mark a crawler, monitor or library.
const BOT_MARKS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "pingdom",
    "uptime",
    "monitor",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "java/",
    "okhttp",
    "axios/",
    "node-fetch",
    "undici",
    "libwww",
    "httpclient",
    "scrapy",
    "preview",
];

/// Substrings (lowercase) that mark an automated or headless browser.
const TEST_MARKS: &[&str] = &[
    "headlesschrome",
    "lighthouse",
    "phantomjs",
    "playwright",
    "puppeteer",
    "selenium",
    "webdriver",
    "cypress",
    "ptst",
    "gtmetrix",
];

/// Browser product tokens, most specific first (Edge and Opera also say Chrome and Safari).
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("OPiOS/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Vivaldi/", "Vivaldi"),
    ("UCBrowser/", "UC Browser"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("HeadlessChrome/", "Chrome Headless"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
];

/// Parses a `User-Agent` value.
pub fn parse(ua: &str) -> UserAgent {
    let lower = ua.to_ascii_lowercase();
    let synthetic = if TEST_MARKS.iter().any(|m| lower.contains(m)) {
        Some(Synthetic::Test)
    } else if BOT_MARKS.iter().any(|m| lower.contains(m)) || !ua.contains("Mozilla/") {
        Some(Synthetic::Bot)
    } else {
        None
    };
    let (browser_name, browser_version) = browser(ua);
    let (os_name, os_version) = os(ua);
    let device = if synthetic == Some(Synthetic::Bot) {
        DeviceType::Bot
    } else {
        device(ua, os_name.as_deref())
    };
    UserAgent {
        browser_name,
        browser_version,
        os_name,
        os_version,
        device,
        synthetic,
    }
}

/// The version after `token` (digits and dots).
fn version_after<'a>(ua: &'a str, token: &str) -> Option<&'a str> {
    let start = ua.find(token)? + token.len();
    let rest = &ua[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let v = rest[..end].trim_end_matches('.');
    (!v.is_empty()).then_some(v)
}

fn browser(ua: &str) -> (Option<String>, Option<String>) {
    for (token, name) in BROWSERS {
        if ua.contains(token) {
            return (
                Some((*name).to_string()),
                version_after(ua, token).map(str::to_string),
            );
        }
    }
    if ua.contains("Safari/") || ua.contains("AppleWebKit/") && ua.contains("Mobile/") {
        let name = if ua.contains("Mobile") {
            "Mobile Safari"
        } else {
            "Safari"
        };
        return (
            Some(name.to_string()),
            version_after(ua, "Version/").map(str::to_string),
        );
    }
    if let Some(v) = version_after(ua, "MSIE ") {
        return (Some("Internet Explorer".to_string()), Some(v.to_string()));
    }
    if ua.contains("Trident/") {
        let v = version_after(ua, "rv:").map(str::to_string);
        return (Some("Internet Explorer".to_string()), v);
    }
    (bot_name(ua), None)
}

/// The product name of a crawler (`Googlebot/2.1` → `Googlebot`).
fn bot_name(ua: &str) -> Option<String> {
    ua.split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == ')' || c == ',')
        .filter_map(|token| token.split('/').next())
        .find(|name| {
            let l = name.to_ascii_lowercase();
            l.len() > 2 && (l.ends_with("bot") || l.contains("crawler") || l.contains("spider"))
        })
        .map(|name| name.trim_start_matches('+').to_string())
}

fn windows_version(nt: &str) -> &str {
    match nt {
        "10.0" => "10",
        "6.3" => "8.1",
        "6.2" => "8",
        "6.1" => "7",
        "6.0" => "Vista",
        "5.1" | "5.2" => "XP",
        other => other,
    }
}

fn os(ua: &str) -> (Option<String>, Option<String>) {
    let owned = |name: &str, version: Option<String>| (Some(name.to_string()), version);
    if let Some(v) = version_after(ua, "Windows NT ") {
        return owned("Windows", Some(windows_version(v).to_string()));
    }
    if ua.contains("Windows") {
        return owned("Windows", None);
    }
    if let Some(v) = version_after(ua, "Android ") {
        return owned("Android", Some(v.to_string()));
    }
    if ua.contains("Android") {
        return owned("Android", None);
    }
    if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        let v = underscored_version(ua, "OS ");
        return owned("iOS", v);
    }
    if ua.contains("CrOS") {
        return owned("ChromeOS", None);
    }
    if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        return owned("macOS", underscored_version(ua, "Mac OS X "));
    }
    if ua.contains("Linux") || ua.contains("X11") {
        return owned("Linux", None);
    }
    (None, None)
}

/// `OS 17_1_2 like` → `17.1.2`.
fn underscored_version(ua: &str, token: &str) -> Option<String> {
    let start = ua.find(token)? + token.len();
    let rest = &ua[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let v = rest[..end].replace('_', ".");
    (!v.is_empty()).then_some(v)
}

fn device(ua: &str, os: Option<&str>) -> DeviceType {
    if ua.contains("iPad") || ua.contains("Tablet") || ua.contains("Kindle") {
        return DeviceType::Tablet;
    }
    if ua.contains("Mobi") || ua.contains("iPhone") || ua.contains("iPod") {
        return DeviceType::Mobile;
    }
    // Android tablets leave out "Mobile".
    if os == Some("Android") {
        return DeviceType::Tablet;
    }
    DeviceType::Desktop
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, browser: (&str, &str), os: (&str, &str), device: DeviceType) {
        let p = parse(ua);
        assert_eq!(p.browser_name.as_deref(), Some(browser.0), "{ua}");
        assert_eq!(p.browser_version.as_deref(), Some(browser.1), "{ua}");
        assert_eq!(p.os_name.as_deref(), Some(os.0), "{ua}");
        if !os.1.is_empty() {
            assert_eq!(p.os_version.as_deref(), Some(os.1), "{ua}");
        }
        assert_eq!(p.device, device, "{ua}");
    }

    #[test]
    fn common_browsers() {
        use DeviceType::*;
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36",
            ("Chrome", "124.0.6367.91"),
            ("Windows", "10"),
            Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
            ("Edge", "124.0.2478.67"),
            ("Windows", "10"),
            Desktop,
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            ("Safari", "17.4"),
            ("macOS", "10.15.7"),
            Desktop,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            ("Mobile Safari", "17.4"),
            ("iOS", "17.4.1"),
            Mobile,
        );
        check(
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            ("Chrome", "120.0.6099.119"),
            ("iOS", "16.6"),
            Tablet,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
            ("Chrome", "124.0.6367.82"),
            ("Android", "14"),
            Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36",
            ("Samsung Internet", "24.0"),
            ("Android", "13"),
            Tablet,
        );
        check(
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            ("Firefox", "125.0"),
            ("Linux", ""),
            Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
            ("Internet Explorer", "11.0"),
            ("Windows", "7"),
            Desktop,
        );
        check(
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
            ("Opera", "109.0.0.0"),
            ("ChromeOS", ""),
            Desktop,
        );
        assert_eq!(
            parse("Mozilla/5.0 (Windows NT 10.0) Chrome/1").synthetic,
            None
        );
    }

    #[test]
    fn bots_and_test_browsers_are_flagged() {
        let google =
            parse("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        assert_eq!(google.synthetic, Some(Synthetic::Bot));
        assert_eq!(google.device, DeviceType::Bot);
        assert_eq!(google.browser_name.as_deref(), Some("Googlebot"));
        assert_eq!(parse("curl/8.5.0").synthetic, Some(Synthetic::Bot));
        assert_eq!(parse("python-requests/2.31").device, DeviceType::Bot);
        let headless = parse(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
        );
        assert_eq!(headless.synthetic, Some(Synthetic::Test));
        assert_eq!(headless.browser_name.as_deref(), Some("Chrome Headless"));
        assert_eq!(headless.device, DeviceType::Desktop);
        let lighthouse = parse(
            "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        );
        assert_eq!(lighthouse.synthetic, Some(Synthetic::Test));
    }

    proptest::proptest! {
        #[test]
        fn any_user_agent_parses_without_a_panic(ua in "\\PC{0,300}") {
            let p = parse(&ua);
            proptest::prop_assert!(p.synthetic.is_some() || ua.contains("Mozilla/"));
        }
    }

    #[test]
    fn garbage_is_unknown_not_a_panic() {
        for ua in [
            "",
            "Mozilla/",
            "Chrome/",
            "Windows NT ",
            "OS ",
            "é/ü",
            "Version/..",
        ] {
            let _ = parse(ua);
        }
        assert_eq!(parse("Mozilla/5.0 (Something)").browser_name, None);
    }
}
