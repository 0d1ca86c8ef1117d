import Foundation
import KarbonetesCommandLine
import KarbonetesControllerRuntime
import KarbonetesHTTPServer
import KarbonetesKubeClient
import KarbonetesKubeConfig
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesModels
import KarbonetesSignalClient
import KarbonetesTLS
import WebhookCore
import WebhookServer

/// Publishes how old each region's cached signal is, every few seconds (not per request: a
/// gauge update on every admission would contend on its lock).
struct SignalCacheAgeReporter: Service, CustomStringConvertible {
    let cache: CachedSignal
    let gauge: Gauge
    var description: String { "signal cache age reporter" }

    func run() async throws {
        while !Task.isCancelled {
            for region in await cache.regions {
                if let age = await cache.cacheAge(region: region) { gauge.set(age, labels: ["region": region]) }
            }
            do { try await Task.sleep(for: .seconds(5)) } catch { return }
        }
    }
}

/// Admission reads the shared signal cache.
struct CachedSignalSource: SignalSource {
    let cache: CachedSignal
    func reading(region: String) async -> SignalReading { await cache.reading(region: region) }
}

let version = WebhookVersion.current

let flagSet = FlagSet(
    program: "karbonetes-webhook", version: version,
    summary: "Mutating admission webhook for batch/v1 Job CREATE: holds carbon-aware Jobs until a green window, or steers them to the green NodePool.",
    flags: WebhookConfiguration.flags)
let configuration = flagSet.parseOrExit { try WebhookConfiguration($0) }
let logger = Logger(label: "karbonetes-webhook", level: configuration.logLevel)

do {
    let registry = MetricsRegistry()
    let kubeConfig = try KubeConfigLoader.resolve(kubeconfigFlag: configuration.kubeconfig)
    let client = try KubeClient(config: kubeConfig, qps: 5, burst: 10, userAgent: "karbonetes-webhook/\(version)", logger: logger)
    let policies = Informer(CarbonAwarePolicy.self, client: client, logger: logger)
    let signal = CachedSignal(
        fetcher: try SignalClient(baseURL: configuration.signalURL),
        settings: .init(ttl: configuration.signalTTL, staleLimit: configuration.signalStaleLimit), logger: logger)
    let metrics = WebhookMetrics(registry: registry)
    let handler = AdmissionReviewHandler(policies: policies, signal: CachedSignalSource(cache: signal), metrics: metrics, logger: logger)
    let tlsServer = try HTTPServer(
        configuration: HTTPServerConfiguration(
            host: configuration.listen.host, port: configuration.listen.port,
            tls: TLSServerConfiguration(certificateFile: configuration.certificateFile, keyFile: configuration.keyFile)),
        handler: WebhookRoutes.admission(handler: handler, policies: policies), logger: logger, metrics: registry)
    let metricsServer = try HTTPServer(
        configuration: HTTPServerConfiguration(host: configuration.metricsListen.host, port: configuration.metricsListen.port),
        handler: WebhookRoutes.metrics(registry: registry, policies: policies), logger: logger)
    logger.notice("starting", metadata: [
        "version": version, "listen": configuration.listen.description, "metrics.listen": configuration.metricsListen.description,
        "kubernetes.server": kubeConfig.server.absoluteString, "signal.url": configuration.signalURL.absoluteString,
    ])
    await ServiceMain.run(ServiceGroup(services: [policies, signal, SignalCacheAgeReporter(cache: signal, gauge: metrics.signalCacheAge), tlsServer, metricsServer], logger: logger), logger: logger)
} catch {
    logger.critical("cannot start: \(error)")
    exit(1)
}
