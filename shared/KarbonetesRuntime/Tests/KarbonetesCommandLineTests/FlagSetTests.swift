import Foundation
import KarbonetesCommandLine
import KarbonetesLogging
import Testing

let verbose = Flag(name: "verbose", help: "Say more.", isBoolean: true)
let interval = Flag(name: "resync-interval", default: "30", help: "Seconds between resyncs.", valueName: "seconds")
let zone = Flag(name: "zone", help: "Grid zone.", environment: "")

let flagSet = FlagSet(
    program: "karbonetes-test",
    version: "1.2.3",
    summary: "A program for the tests.",
    flags: [.logLevel, .listen(default: ":8443"), .kubeconfig, verbose, interval, zone]
)

extension FlagParseOutcome {
    var parsed: ParsedFlags? {
        if case .run(let flags) = self { return flags }
        return nil
    }
}

@Suite("Flag parsing")
struct FlagSetTests {
    struct ValueCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var wantListen: String
        var wantLevel: LogLevel
        var wantVerbose: Bool
        var wantInterval: Int
        var wantKubeconfig: String?
        var testDescription: String { "\(arguments) env \(environment)" }
    }

    @Test(
        "values come from arguments, then KARBONETES_ variables, then defaults",
        arguments: [
            ValueCase(
                arguments: [],
                wantListen: "0.0.0.0:8443",
                wantLevel: .info,
                wantVerbose: false,
                wantInterval: 30
            ),
            ValueCase(
                arguments: ["--listen", "127.0.0.1:9000", "--log-level=debug", "--verbose"],
                wantListen: "127.0.0.1:9000",
                wantLevel: .debug,
                wantVerbose: true,
                wantInterval: 30
            ),
            ValueCase(
                arguments: ["--verbose=false", "--resync-interval", "5", "--kubeconfig=/tmp/kc"],
                wantListen: "0.0.0.0:8443",
                wantLevel: .info,
                wantVerbose: false,
                wantInterval: 5,
                wantKubeconfig: "/tmp/kc"
            ),
            ValueCase(
                arguments: [],
                environment: [
                    "KARBONETES_LOG_LEVEL": "warning", "KARBONETES_LISTEN": "[::1]:7000", "KARBONETES_VERBOSE": "true",
                    "KARBONETES_RESYNC_INTERVAL": "60", "KARBONETES_KUBECONFIG": "/etc/kc",
                ],
                wantListen: "[::1]:7000",
                wantLevel: .warning,
                wantVerbose: true,
                wantInterval: 60,
                wantKubeconfig: "/etc/kc"
            ),
            ValueCase(
                arguments: ["--log-level", "ERROR", "--resync-interval=1", "--resync-interval=2"],
                environment: ["KARBONETES_LOG_LEVEL": "trace"],
                wantListen: "0.0.0.0:8443",
                wantLevel: .error,
                wantVerbose: false,
                wantInterval: 2
            ),
        ]
    )
    func values(_ testCase: ValueCase) throws {
        let flags = try #require(try flagSet.parse(testCase.arguments, environment: testCase.environment).parsed)
        #expect(try flags.hostPort(.listen(default: ":8443")).description == testCase.wantListen)
        #expect(try flags.logLevel() == testCase.wantLevel)
        #expect(try flags.bool(verbose) == testCase.wantVerbose)
        #expect(try flags.int(interval) == testCase.wantInterval)
        #expect(flags.string(.kubeconfig) == testCase.wantKubeconfig)
    }

    @Test("a flag declared without an environment variable ignores the environment")
    func noEnvironmentFallback() throws {
        let flags = try #require(try flagSet.parse([], environment: ["KARBONETES_ZONE": "DE"]).parsed)
        #expect(flags.string(zone) == nil)
        #expect(throws: FlagError.self) { try flags.requiredString(zone) }
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var wantFlag: String
        var wantDescription: String
        var testDescription: String { wantDescription }
    }

    @Test(
        "a bad command line fails with an error naming the flag and where the value came from",
        arguments: [
            ErrorCase(arguments: ["--colour"], wantFlag: "--colour", wantDescription: "unknown flag --colour"),
            ErrorCase(arguments: ["--colour=red"], wantFlag: "--colour", wantDescription: "unknown flag --colour"),
            ErrorCase(arguments: ["--listen"], wantFlag: "--listen", wantDescription: "flag --listen needs a value"),
            ErrorCase(
                arguments: ["serve"],
                wantFlag: "serve",
                wantDescription: "unexpected argument \"serve\": every option is a --flag"
            ),
            ErrorCase(
                arguments: ["--verbose=maybe"],
                wantFlag: "--verbose",
                wantDescription:
                    "invalid value \"maybe\" for flag --verbose (from the command line): not a boolean (true or false)"
            ),
            ErrorCase(
                arguments: [],
                environment: ["KARBONETES_VERBOSE": "sometimes"],
                wantFlag: "--verbose",
                wantDescription:
                    "invalid value \"sometimes\" for flag --verbose (from environment variable KARBONETES_VERBOSE): not a boolean (true or false)"
            ),
        ]
    )
    func parseErrors(_ testCase: ErrorCase) {
        let error = #expect(throws: FlagError.self) {
            try flagSet.parse(testCase.arguments, environment: testCase.environment)
        }
        #expect(error?.flag == testCase.wantFlag)
        #expect(error?.description == testCase.wantDescription)
    }

    struct AccessorCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var wantDescription: String
        var testDescription: String { wantDescription }
    }

    @Test(
        "a value the typed accessor cannot read names the flag and its source",
        arguments: [
            AccessorCase(
                arguments: ["--log-level", "loud"],
                wantDescription:
                    "invalid value \"loud\" for flag --log-level (from the command line): not one of trace, debug, info, notice, warning, error, critical"
            ),
            AccessorCase(
                arguments: [],
                environment: ["KARBONETES_LISTEN": "localhost"],
                wantDescription:
                    "invalid value \"localhost\" for flag --listen (from environment variable KARBONETES_LISTEN): address \"localhost\" has no :PORT"
            ),
            AccessorCase(
                arguments: ["--resync-interval=soon"],
                wantDescription:
                    "invalid value \"soon\" for flag --resync-interval (from the command line): not an integer"
            ),
        ]
    )
    func accessorErrors(_ testCase: AccessorCase) throws {
        let flags = try #require(try flagSet.parse(testCase.arguments, environment: testCase.environment).parsed)
        let error = #expect(throws: FlagError.self) {
            _ = try flags.logLevel()
            _ = try flags.hostPort(.listen(default: ":8443"))
            _ = try flags.int(interval)
        }
        #expect(error?.description == testCase.wantDescription)
    }

    @Test("value(_:_:) wraps any parser's error with the flag's name")
    func customTransform() throws {
        let flags = try #require(try flagSet.parse(["--zone", "de"], environment: [:]).parsed)
        #expect(try flags.value(zone) { $0.uppercased() } == "DE")
        let error = #expect(throws: FlagError.self) {
            try flags.value(zone) { _ -> Int in throw FlagValueReason("not a known zone") }
        }
        #expect(error?.description == "invalid value \"de\" for flag --zone (from the command line): not a known zone")
        #expect(error?.source == .argument)
    }

    @Test("--help lists every flag with its default and variable, and --version prints the version")
    func helpAndVersion() throws {
        guard case .help(let text) = try flagSet.parse(["--listen", ":1", "--help"], environment: [:]) else {
            Issue.record("--help did not ask for help")
            return
        }
        #expect(text.hasPrefix("Usage: karbonetes-test [flags]\n\nA program for the tests.\n"))
        #expect(text.contains("  --log-level <level>\n"))
        #expect(text.contains("(default: info; env: KARBONETES_LOG_LEVEL)"))
        #expect(text.contains("  --listen <host:port>\n"))
        #expect(text.contains("  --verbose\n"))
        #expect(text.contains("  --version\n"))
        guard case .version(let line) = try flagSet.parse(["--version"], environment: [:]) else {
            Issue.record("--version did not ask for the version")
            return
        }
        #expect(line == "karbonetes-test 1.2.3")
    }

    @Test("parseOrExit exits 2 and names the flag on a bad value")
    func parseOrExitUsageError() async throws {
        let result = try await #require(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let set = FlagSet(program: "probe", version: "0", summary: "s", flags: [.listen(default: ":1")])
            _ = set.parseOrExit([], environment: ["KARBONETES_LISTEN": "nowhere"]) {
                try $0.hostPort(.listen(default: ":1"))
            }
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(
            stderr.contains(
                "probe: invalid value \"nowhere\" for flag --listen (from environment variable KARBONETES_LISTEN)"
            )
        )
    }

    @Test("parseOrExit prints the version to standard output and exits 0")
    func parseOrExitVersion() async throws {
        let result = try await #require(processExitsWith: .exitCode(0), observing: [\.standardOutputContent]) {
            let set = FlagSet(program: "probe", version: "9.9", summary: "s", flags: [])
            _ = set.parseOrExit(["--version"], environment: [:])
        }
        #expect(String(decoding: result.standardOutputContent, as: UTF8.self) == "probe 9.9\n")
    }
}

@Suite("Host and port")
struct HostPortTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var want: HostPort?
        var testDescription: String { text }
    }

    @Test(
        "HOST:PORT, [IPv6]:PORT and :PORT parse; anything else is an error quoting the text",
        arguments: [
            Case(text: "127.0.0.1:8443", want: HostPort(host: "127.0.0.1", port: 8443)),
            Case(text: "localhost:0", want: HostPort(host: "localhost", port: 0)),
            Case(text: "[::1]:9090", want: HostPort(host: "::1", port: 9090)),
            Case(text: ":8080", want: HostPort(host: "0.0.0.0", port: 8080)),
            Case(text: "host:65535", want: HostPort(host: "host", port: 65535)),
            Case(text: "host:65536", want: nil),
            Case(text: "host:-1", want: nil),
            Case(text: "host:", want: nil),
            Case(text: "host", want: nil),
            Case(text: "::1:80", want: nil),
            Case(text: "[::1]80", want: nil),
            Case(text: "[::1:80", want: nil),
            Case(text: "[]:80", want: nil),
            Case(text: "host:８０", want: nil),
        ]
    )
    func parsing(_ testCase: Case) throws {
        if let want = testCase.want {
            let parsed = try HostPort(parsing: testCase.text)
            #expect(parsed == want)
            #expect(try HostPort(parsing: parsed.description) == want)
        } else {
            let error = #expect(throws: HostPortError.self) { try HostPort(parsing: testCase.text) }
            #expect(error?.description.contains("\"\(testCase.text)\"") == true)
        }
    }
}

@Suite("URL flags")
struct URLFlagTests {
    static let target = Flag(name: "signal-url", default: "http://127.0.0.1:8090", help: "Where the signal is.", valueName: "URL")
    static let set = FlagSet(program: "probe", version: "0", summary: "s", flags: [target])

    @Test("http and https URLs with a host are accepted", arguments: ["http://127.0.0.1:8090", "https://signal.example:443/base"])
    func accepts(_ text: String) throws {
        let parsed = try #require(try Self.set.parse(["--signal-url", text], environment: [:]).parsed)
        #expect(try parsed.httpURL(Self.target).absoluteString == text)
    }

    @Test("anything else is an error naming the flag", arguments: ["ftp://x", "127.0.0.1:8090", "http://", "not a url"])
    func rejects(_ text: String) throws {
        let parsed = try #require(try Self.set.parse(["--signal-url", text], environment: [:]).parsed)
        #expect {
            _ = try parsed.httpURL(Self.target)
        } throws: { error in
            "\(error)".contains("--signal-url") && "\(error)".contains("not an http(s) URL")
        }
    }
}
