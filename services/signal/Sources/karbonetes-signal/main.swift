// karbonetes-signal: the carbon signal HTTP service. Flags, then the application under a
// ServiceGroup, so SIGTERM stops accepting and drains open requests.
import Foundation
import KarbonetesCommandLine
import KarbonetesLifecycle
import KarbonetesLogging
import SignalApp
import SignalCore

let configFlag = Flag(
    name: "config",
    help: "YAML file with cacheTTL, staleLimit and regions (providers: static, trace, electricitymaps, watttime, "
        + "uk-carbon-intensity, carbon-aware-sdk). Without it: the built-in static mock for region default, green "
        + "10:00-16:00 UTC every day at 120 gCO2eq/kWh, otherwise 380.",
    valueName: "path"
)
let listenFlag = Flag.listen(default: "127.0.0.1:8090")
let overrideFlag = Flag(
    name: "enable-demo-override",
    default: "false",
    help: "Accept PUT/DELETE /v1/override to force a region green or not (for demos; off in production).",
    isBoolean: true
)
let flags = FlagSet(
    program: "karbonetes-signal",
    version: SignalVersion.current,
    summary: "Serves the carbon signal contract (/v1/signal, /v1/forecast, /v1/best-window, /v1/regions, "
        + "/emissions/forecasts/current, /openapi.yaml, /healthz, /readyz, /metrics).",
    flags: [configFlag, listenFlag, overrideFlag, .logLevel]
)

struct Options {
    var configuration: SignalConfiguration
    var configDirectory: String
    var host: String
    var port: Int
    var overrideEnabled: Bool
    var logLevel: LogLevel
}

let options = flags.parseOrExit { parsed in
    let address = try parsed.hostPort(listenFlag)
    var configuration = SignalConfiguration.builtIn
    var directory = FileManager.default.currentDirectoryPath
    if let path = parsed.string(configFlag) {
        configuration = try parsed.value(configFlag) { try SignalApplication.loadConfiguration(path: $0) }
        directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    }
    return Options(
        configuration: configuration, configDirectory: directory, host: address.host, port: address.port,
        overrideEnabled: try parsed.bool(overrideFlag), logLevel: try parsed.logLevel())
}

let logger = Logger(label: "karbonetes-signal", level: options.logLevel)
do {
    let application = try SignalApplication(
        configuration: options.configuration,
        configDirectory: options.configDirectory,
        host: options.host,
        port: options.port,
        overrideEnabled: options.overrideEnabled,
        logger: logger
    )
    logger.info(
        "karbonetes-signal starting",
        metadata: [
            "signal.version": SignalVersion.current,
            "signal.regions": options.configuration.regions.map { "\($0.name)=\($0.provider)" }.joined(separator: ","),
            "signal.demoOverride": String(options.overrideEnabled),
        ])
    await ServiceMain.run(ServiceGroup(services: application.services, logger: logger), logger: logger)
} catch {
    logger.critical("cannot start: \(error)")
    exit(1)
}
