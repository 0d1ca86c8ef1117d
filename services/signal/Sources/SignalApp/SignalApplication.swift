public import Foundation
import KarbonetesCarbon
public import KarbonetesHTTPServer
public import KarbonetesLifecycle
public import KarbonetesLogging
public import KarbonetesMetrics
import KarbonetesYAML
public import SignalCore
public import SignalHTTP

/// The service's version; `VERSION` in the package holds the same text (a test checks).
public enum SignalVersion {
    /// Printed by `--version` and logged at start.
    public static let current = "0.1.0"
}

/// The whole service assembled from a configuration: providers, cache, routes, server and the
/// background refresher, ready for a ``ServiceGroup``.
public struct SignalApplication: Sendable {
    public let engine: SignalEngine
    public let handler: SignalHTTPHandler
    public let registry: MetricsRegistry
    public let refresher: CacheRefresher
    public let server: HTTPServer

    /// Builds everything and binds the listening socket (port 0 picks one).
    /// - Parameter configDirectory: relative trace and secret paths are read from here.
    public init(
        configuration: SignalConfiguration,
        configDirectory: String,
        host: String,
        port: Int,
        overrideEnabled: Bool,
        clock: any WallClock = SystemWallClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) throws {
        try configuration.validate()
        let settings = try configuration.cacheSettings()
        let registry = MetricsRegistry()
        let metrics = SignalMetrics(registry: registry)
        let factory = ProviderFactory(
            configDirectory: configDirectory, clock: clock, environment: environment, logger: logger)
        let regions = try configuration.regions.map { RegionProvider(name: $0.name, provider: try factory.make($0)) }
        let fetchLogger = logger
        let engine = SignalEngine(regions: regions, settings: settings, clock: clock) { event in
            metrics.record(event)
            if let error = event.error {
                fetchLogger.warning(
                    "provider fetch failed",
                    metadata: ["signal.region": event.region, "signal.provider": event.provider, "error": error])
            }
        }
        self.engine = engine
        self.registry = registry
        self.handler = SignalHTTPHandler(
            engine: engine, overrideEnabled: overrideEnabled, registry: registry, metrics: metrics)
        let interval = Duration.milliseconds(Int64(max(0.5, min(settings.ttl / 2, 10)) * 1000))
        self.refresher = CacheRefresher(cache: engine.cache, interval: interval) { await metrics.observe(engine) }
        self.server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: host, port: port),
            handler: handler,
            logger: logger,
            metrics: registry
        )
    }

    public var services: [any Service] { [server, refresher] }

    /// Reads and checks a config file (YAML), naming the file in errors. Blocking: call it
    /// before the servers start.
    public static func loadConfiguration(path: String) throws -> SignalConfiguration {
        let configuration = try YAML.decode(SignalConfiguration.self, contentsOfFile: path)
        try configuration.validate()
        return configuration
    }
}

/// Makes each region's provider from its config entry.
struct ProviderFactory {
    let configDirectory: String
    let clock: any WallClock
    let environment: [String: String]
    let logger: Logger

    func path(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: configDirectory).appendingPathComponent(path).path
    }

    func make(_ region: RegionConfiguration) throws -> any CarbonProvider {
        switch region.provider {
        case "static":
            return StaticProvider(schedule: try region.staticSchedule())
        case "trace":
            return try makeTrace(region)
        default:
            return try makeRemote(region)
        }
    }

    /// The first line of a CSV file split into column names (for the `format:` check).
    static func headerLine(_ path: String) -> [String]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 4096) else { return nil }
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\u{FEFF}", with: "")
        guard let line = text.split(whereSeparator: \.isNewline).first else { return nil }
        return line.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
    }

    private func makeTrace(_ region: RegionConfiguration) throws -> any CarbonProvider {
        guard let file = region.file else {
            throw SignalConfigurationError.invalid(
                region: region.name, field: "file", reason: "is required for provider trace")
        }
        let trace: CarbonTrace
        do {
            trace = try CarbonTrace.load(contentsOfFile: path(file), column: region.column)
        } catch {
            throw SignalConfigurationError.invalid(
                region: region.name, field: "file", reason: "cannot be read: \(error)")
        }
        if let format = region.format {
            guard let wanted = CarbonTraceFormat(rawValue: format) else {
                throw SignalConfigurationError.invalid(
                    region: region.name, field: "format", reason: "\"\(format)\" is not electricitymaps or entsoe")
            }
            if let header = Self.headerLine(path(file)), CarbonTraceFormat.detect(header: header) != wanted {
                throw SignalConfigurationError.invalid(
                    region: region.name, field: "format", reason: "says \(format) but \(file) is not in that format")
            }
        }
        let speedup = region.speedup ?? 1
        guard speedup > 0, speedup.isFinite else {
            throw SignalConfigurationError.invalid(
                region: region.name, field: "speedup", reason: "must be a positive number")
        }
        let replay = TraceReplay(
            trace: trace, alignment: try region.traceAlignment(), speedup: speedup, anchor: clock.now(),
            green: try region.greenRule(fallback: .percentile(30)))
        return TraceProvider(region: region.name, replay: replay)
    }
}
