import ControllerCore
import Foundation
import KarbonetesCommandLine
import KarbonetesControllerRuntime
import KarbonetesHTTP
import KarbonetesHTTPServer
import KarbonetesKubeClient
import KarbonetesKubeConfig
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesModels
import KarbonetesSignalClient

let flagSet = FlagSet(
    program: "karbonetes-controller", version: ControllerVersion.current,
    summary: "Releases Jobs that karbonetes-webhook held: at a green window (to the green NodePool) or at their deadline (to the fallback pool).",
    flags: ControllerConfiguration.flags)
let configuration = flagSet.parseOrExit { try ControllerConfiguration($0) }
let logger = Logger(label: "karbonetes-controller", level: configuration.logLevel)

do {
    let registry = MetricsRegistry()
    let metrics = ControllerMetrics(registry: registry)
    let apiRequests = registry.counter(MetricNames.Controller.apiRequests, help: "Requests to the Kubernetes API, by verb and response code.", labelNames: ["verb", "code"])
    let kubeConfig = try KubeConfigLoader.resolve(kubeconfigFlag: configuration.kubeconfig)
    let client = try KubeClient(
        config: kubeConfig, qps: configuration.qps, burst: configuration.burst, userAgent: "karbonetes-controller/\(ControllerVersion.current)",
        logger: logger, onRequest: KubeClient.counting(into: apiRequests))
    // The server sends managed Jobs; the cache keeps the deferred ones, so that memory follows
    // the Jobs held, not every released Job the cluster still has.
    let jobs = Informer(
        Job.self, client: client, labelSelector: CarbonAnnotations.managedSelector, keep: HeldJobs.needsReconcile,
        indexers: [HeldJobs.indexName: HeldJobs.index], logger: logger)
    let policies = Informer(CarbonAwarePolicy.self, client: client, logger: logger)
    let queue = WorkQueue<ObjectKey>(name: "held-jobs")
    // Only Jobs the reconciler can act on: a release's own MODIFIED event is not reconciled again.
    jobs.enqueue(into: queue, where: HeldJobs.needsReconcile)
    policies.addHandler { event in
        // A policy change can change any of its namespace's decisions: look at them again.
        for job in jobs.cache.byIndex(ObjectCache<Job>.namespaceIndex, event.object.metadata.namespace ?? "") {
            await queue.add(job.key)
        }
    }
    let signal = CachedSignal(
        fetcher: try SignalClient(baseURL: configuration.signalURL),
        settings: .init(ttl: configuration.signalPollInterval, staleLimit: configuration.signalStaleLimit), logger: logger)
    let hostname = ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
    let identity = "\(hostname)_\(UUID().uuidString.prefix(8).lowercased())"
    // Events give way to reconciles (they follow a burst of releases, from a buffer large enough
    // for one Event per held Job); drops are counted in karbonetes_controller_events_dropped_total.
    let priority = WritePriority()
    let recorder = EventRecorder(
        client: client, component: "karbonetes-controller", instance: identity, capacity: 20_000, logger: logger,
        droppedCounter: metrics.eventsDropped, priority: priority)
    let events = RecorderEventSink(recorder: recorder)
    let releaser = JobReleaser(
        cache: InformerJobCache(informer: jobs), writer: KubeJobWriter(client: client), policies: policies,
        signal: CachedSignalProvider(cache: signal), events: events, metrics: metrics, logger: logger)
    let elector: LeaderElector? = configuration.leaderElect
        ? LeaderElector(
            // Lease renewals must never queue behind the reconcilers' requests at the QPS limit.
            client: client.withRateLimiter(nil),
            configuration: LeaderElectionConfiguration(
                leaseName: configuration.leaderElectionID, namespace: configuration.leaderElectionNamespace ?? kubeConfig.namespace, identity: identity,
                leaseDuration: configuration.leaseDuration, renewDeadline: configuration.renewDeadline, retryPeriod: configuration.retryPeriod),
            logger: logger, onLeadershipChange: { leading in metrics.isLeader.set(leading ? 1 : 0) })
        : nil
    if elector == nil { metrics.isLeader.set(1) }
    let leadership = LeadershipService(
        elector: elector,
        work: LeaderWork(
            queue: queue, releaser: releaser, jobs: jobs, policies: policies, signal: signal, client: client, workers: configuration.workers,
            pollInterval: configuration.signalPollInterval, priority: priority, logger: logger))
    var router = Router()
    router.addMetrics(registry)
    router.addHealthChecks { jobs.hasSynced && policies.hasSynced }
    let metricsServer = try HTTPServer(
        configuration: HTTPServerConfiguration(host: configuration.metricsListen.host, port: configuration.metricsListen.port), handler: router, logger: logger)
    logger.notice("starting", metadata: [
        "version": ControllerVersion.current, "identity": identity, "leader.elect": String(configuration.leaderElect),
        "kubernetes.server": kubeConfig.server.absoluteString, "signal.url": configuration.signalURL.absoluteString,
        "metrics.listen": configuration.metricsListen.description,
    ])
    await ServiceMain.run(ServiceGroup(services: [jobs, policies, queue, signal, recorder, metricsServer, leadership], logger: logger), logger: logger)
} catch {
    logger.critical("cannot start: \(error)")
    exit(1)
}
