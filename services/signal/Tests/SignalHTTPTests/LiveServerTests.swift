import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesModels
import SignalApp
import SignalCore
import Testing

@Suite("The assembled service on a loopback port", .serialized)
struct LiveServerTests {
    @Test("the built-in mock serves the contract over a real socket and stops cleanly on SIGTERM")
    func loopback() async throws {
        let application = try SignalApplication(
            configuration: .builtIn, configDirectory: ".", host: "127.0.0.1", port: 0, overrideEnabled: true,
            logger: .disabled)
        let (signals, trigger) = AsyncStream<UnixSignal>.makeStream()
        let group = ServiceGroup(services: application.services, shutdownSignals: signals, logger: .disabled)
        let client = try HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: URL(string: "http://127.0.0.1:\(application.server.port)")!)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let signal = try await client.execute(
                HTTPClientRequest(path: SignalAPI.signalPath, query: [("region", "default")]))
            #expect(signal.status == 200)
            #expect(signal.headers["Content-Type"] == "application/json")
            let decoded = try KubernetesJSON.decoder.decode(CarbonSignal.self, from: signal.body)
            #expect(decoded.region == "default")
            #expect(decoded.intensity == (decoded.green ? 120 : 380))
            let unknown = try await client.execute(
                HTTPClientRequest(path: SignalAPI.signalPath, query: [("region", "atlantis")]))
            #expect(unknown.status == 404)
            let put = try await client.execute(
                HTTPClientRequest(
                    method: .put, path: SignalAPI.overridePath, body: Data(#"{"region":"default","green":true}"#.utf8)))
            #expect(put.status == 200)
            #expect(try KubernetesJSON.decoder.decode(CarbonSignal.self, from: put.body).green)
            var ready = 0
            for _ in 0..<100 where ready != 200 {
                ready = try await client.execute(HTTPClientRequest(path: "/readyz")).status
                if ready != 200 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(ready == 200)
            let metrics = try await client.execute(HTTPClientRequest(path: "/metrics"))
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("karbonetes_signal_requests_total"))
            trigger.yield(.sigterm)
            try await tasks.waitForAll()
        }
        await client.shutdown()
    }
}

@Suite("Configuration files", .serialized)
struct ConfigurationTests {
    static let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test("VERSION holds the version the binary prints")
    func version() throws {
        let text = try String(contentsOf: Self.packageDirectory.appendingPathComponent("VERSION"), encoding: .utf8)
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == SignalVersion.current)
    }

    @Test("the documented format loads: static with weekdays and a time zone, and a trace from data/carbon")
    func documentedFormat() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "signal-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = Self.packageDirectory.appendingPathComponent("../../data/carbon/electricitymaps_ES_2022_hourly.csv")
            .standardized.path
        let yaml = """
            cacheTTL: 45s
            staleLimit: 10m
            regions:
              - name: madrid-office-hours
                provider: static
                timeZone: Europe/Madrid
                windows:
                  - {start: "10:00", end: "16:00", weekdays: [mon, tue, wed, thu, fri]}
                  - {start: "22:00", end: "02:00"}
                greenIntensity: 90
                otherIntensity: 300
              - name: es
                provider: trace
                file: \(trace)
                format: electricitymaps
                alignment: sameTimeOfYear
                speedup: 60
                green: {percentile: 30}
            """
        let file = directory.appendingPathComponent("signal.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try SignalApplication.loadConfiguration(path: file.path)
        #expect(try configuration.cacheSettings() == CacheSettings(ttl: 45, staleLimit: 600, failureBackoff: 5))
        let schedule = try configuration.regions[0].staticSchedule()
        #expect(schedule.timeZone.identifier == "Europe/Madrid")
        #expect(schedule.windows.count == 2)
        #expect(schedule.windows[0].weekdays == [.mon, .tue, .wed, .thu, .fri])
        #expect(schedule.greenIntensity == 90)
        let application = try SignalApplication(
            configuration: configuration, configDirectory: directory.path, host: "127.0.0.1", port: 0,
            overrideEnabled: false, logger: .disabled)
        #expect(application.engine.regions.regions.map(\.provider) == ["static", "trace"])
        let signal = try await application.engine.signal(region: "es")
        #expect(signal.source == "trace:electricitymaps_ES_2022_hourly.csv")
        #expect(signal.rule.hasPrefix("lowest 30%"))
    }

    @Test(
        "mistakes in the config name the region and the key",
        arguments: [
            ("regions: []", "regions lists no region"),
            ("regions: [{name: a, provider: magic}]", "region a: provider \"magic\" is not one of static, trace"),
            (
                "regions: [{name: a, provider: static}, {name: a, provider: static}]",
                "region a: name is used by two regions"
            ),
            (
                "regions: [{name: a, provider: static, timeZone: Mars/Olympus}]",
                "region a: timeZone time zone \"Mars/Olympus\""
            ),
            (
                "regions: [{name: a, provider: static, windows: [{start: \"10:00\", end: \"10:00\"}]}]",
                "region a: windows[0] window 10:00-10:00 is empty"
            ),
            (
                "regions: [{name: a, provider: static, windows: [{start: \"10:00\", end: \"16:00\", weekdays: [funday]}]}]",
                "weekday \"funday\""
            ),
            (
                "regions: [{name: a, provider: static, windows: [{start: \"7pm\", end: \"16:00\"}]}]",
                "time \"7pm\" is not HH:MM"
            ),
            ("regions: [{name: a, provider: trace}]", "region a: file is required"),
            ("regions: [{name: a, provider: trace, file: /nonexistent.csv}]", "region a: file cannot be read"),
            (
                "regions: [{name: a, provider: trace, file: /dev/null, green: {threshold: 1, percentile: 2}}]",
                "region a: file cannot be read"
            ),
            ("cacheTTL: 0s\nregions: [{name: a, provider: static}]", "cacheTTL must be positive"),
            ("cacheTTL: soon\nregions: [{name: a, provider: static}]", "invalid duration \"soon\""),
        ])
    func mistakes(_ yaml: String, _ wantMessage: String) throws {
        do {
            let configuration = try YAMLConfiguration.decode(yaml)
            _ = try SignalApplication(
                configuration: configuration, configDirectory: "/", host: "127.0.0.1", port: 0, overrideEnabled: false,
                logger: .disabled)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".contains(wantMessage), "\(error)")
        }
    }

    @Test("a trace's format, alignment and speed-up are checked against the file and each other", arguments: [
        ("format: entsoe", "region t: format says entsoe but"),
        ("format: parquet", "region t: format \"parquet\" is not electricitymaps or entsoe"),
        ("alignment: offset", "region t: offset is required with alignment: offset"),
        ("alignment: backwards", "region t: alignment \"backwards\" is not sameTimeOfYear or offset"),
        ("speedup: 0", "region t: speedup must be a positive number"),
        ("column: Renewable Percentage\n    format: electricitymaps", nil),
        ("column: no such column", "region t: file cannot be read"),
    ] as [(String, String?)])
    func traceSettings(_ setting: String, _ wantMessage: String?) throws {
        let trace = Self.packageDirectory.appendingPathComponent("../../data/carbon/electricitymaps_ES_2022_hourly.csv").standardized.path
        let yaml = "regions:\n  - name: t\n    provider: trace\n    file: \(trace)\n    \(setting)\n"
        do {
            _ = try SignalApplication(
                configuration: try YAMLConfiguration.decode(yaml), configDirectory: "/", host: "127.0.0.1", port: 0,
                overrideEnabled: false, logger: .disabled)
            #expect(wantMessage == nil, "accepted: \(setting)")
        } catch {
            #expect(wantMessage.map { "\(error)".contains($0) } == true, "\(error)")
        }
    }

    @Test("a green rule must be one threshold or one percentile")
    func greenRules() throws {
        var region = RegionConfiguration(name: "a", provider: "trace")
        region.green = GreenConfiguration(threshold: 100)
        #expect(try region.greenRule(fallback: .percentile(30)) == .threshold(100))
        region.green = GreenConfiguration(percentile: 25)
        #expect(try region.greenRule(fallback: .percentile(30)) == .percentile(25))
        for bad in [
            GreenConfiguration(), GreenConfiguration(threshold: 1, percentile: 2), GreenConfiguration(percentile: 101),
            GreenConfiguration(threshold: -1),
        ] {
            region.green = bad
            #expect(throws: SignalConfigurationError.self) { try region.greenRule(fallback: .percentile(30)) }
        }
    }
}

@Suite("The example config", .serialized)
struct ExampleConfigurationTests {
    @Test(
        "examples/signal.yaml loads, builds every provider without touching the network, and its local regions answer")
    func example() async throws {
        let path = ConfigurationTests.packageDirectory.appendingPathComponent("examples/signal.yaml").path
        let configuration = try SignalApplication.loadConfiguration(path: path)
        let application = try SignalApplication(
            configuration: configuration, configDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path,
            host: "127.0.0.1",
            port: 0, overrideEnabled: false, environment: [:], logger: .disabled)
        #expect(
            application.engine.regions.regions.map(\.provider) == [
                "static", "trace", "trace", "electricitymaps", "watttime", "uk-carbon-intensity", "carbon-aware-sdk",
            ])
        #expect(try await application.engine.signal(region: "madrid").source == "static")
        #expect(try await application.engine.signal(region: "es-replay").rule.hasPrefix("lowest 30%"))
        #expect(try await application.engine.signal(region: "gb-replay").threshold == 150)
    }
}
