import DevAPIPKI
public import DevAPIStore
public import Foundation
import KarbonetesHTTP
import KarbonetesHTTPServer
public import KarbonetesLifecycle
public import KarbonetesLogging
import KarbonetesTLS
import Synchronization

/// Where and how the local API server runs.
public struct DevAPIServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; ``DevAPIServer/port`` tells which.
    public var port: Int
    /// Holds the CA, the serving certificate, the token and the data file.
    public var dataDirectory: String
    /// Where to write the kubeconfig for clients; nil writes none.
    public var kubeconfigPath: String?
    /// How many changes the watch history keeps before compacting.
    public var historyCapacity: Int
    public var bookmarkInterval: Duration
    public var persistInterval: Duration
    public var faults: FaultConfiguration

    public init(
        host: String = "127.0.0.1", port: Int = 6443, dataDirectory: String, kubeconfigPath: String? = nil,
        historyCapacity: Int = 2_000, bookmarkInterval: Duration = .seconds(10), persistInterval: Duration = .milliseconds(500),
        faults: FaultConfiguration = FaultConfiguration()
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.kubeconfigPath = kubeconfigPath
        self.historyCapacity = historyCapacity
        self.bookmarkInterval = bookmarkInterval
        self.persistInterval = persistInterval
        self.faults = faults
    }
}

/// The local API server, assembled: the store (reloaded from the data file), the HTTPS
/// server with its own CA, the bearer token, the kubeconfig, and the background services.
/// A `Service`: `run()` serves until cancelled, then drains and writes the data file.
public final class DevAPIServer: Service, CustomStringConvertible {
    public let store: SharedStore
    public let faults: FaultInjector
    public let port: Int
    /// `https://127.0.0.1:PORT`.
    public let url: String
    public let token: String
    public let caCertificatePEM: Data
    /// The kubeconfig text (also written to the configured path).
    public let kubeconfig: String
    private let httpServer: HTTPServer
    private let persister: StorePersister
    private let ticker: WatchTicker
    private let extraServices: [any Service]

    /// Binds the port, so that `url` is known before `run()`; `controllers` are started with
    /// the server and share its store.
    public init(
        configuration: DevAPIServerConfiguration, logger: Logger,
        controllers: (SharedStore, _ admitCreate: @escaping CreateAdmission) -> [any Service] = { _, _ in [] }
    ) throws {
        let directory = configuration.dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dataFile = directory + "/devapi-data.json"
        let restored = try StorePersister.load(dataFile)
        let base = restored.map { DevAPIStore(restoring: $0, historyCapacity: configuration.historyCapacity) }
            ?? DevAPIStore(historyCapacity: configuration.historyCapacity, now: Date())
        if restored != nil { logger.info("data file reloaded", metadata: ["file": dataFile, "resourceVersion": String(base.resourceVersion)]) }
        store = SharedStore(store: base)
        faults = FaultInjector(configuration.faults)
        let pki = try DevAPIPKI.loadOrCreate(in: directory + "/pki", hosts: [configuration.host])
        token = try DevAPIPKI.loadOrCreateToken(at: directory + "/token")
        caCertificatePEM = pki.caCertificatePEM
        let clientHost = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
        let boundHandler = HandlerSlot()
        httpServer = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: configuration.host, port: configuration.port,
                tls: TLSServerConfiguration(certificateFile: pki.certificateFile, keyFile: pki.keyFile),
                limits: HTTPServerLimits(bodyBytes: 8 * 1024 * 1024),
                timeouts: HTTPServerTimeouts(read: .seconds(60), idle: .seconds(90), shutdownGrace: .seconds(2))),
            handler: boundHandler, logger: logger.with(["component": "http"]))
        port = httpServer.port
        let hostForURL = clientHost.contains(":") ? "[\(clientHost)]" : clientHost
        url = "https://\(hostForURL):\(port)"
        boundHandler.handler = DevAPIHandler(
            store: store, token: token, faults: faults, serverAddress: "\(hostForURL):\(port)",
            bookmarkInterval: configuration.bookmarkInterval, logger: logger)
        kubeconfig = Kubeconfig.render(server: url, caPEM: pki.caCertificatePEM, token: token)
        if let path = configuration.kubeconfigPath { try Kubeconfig.write(kubeconfig, to: path) }
        persister = StorePersister(store: store, file: dataFile, interval: configuration.persistInterval, logger: logger)
        ticker = WatchTicker(store: store, faults: faults, interval: .milliseconds(100))
        let admission = AdmissionChain(logger: logger)
        let sharedStore = store
        extraServices = controllers(store) { object, namespace in
            try await admission.admit(
                AdmissionChain.Request(object: object, oldObject: nil, operation: "CREATE", type: .jobs, namespace: namespace, dryRun: false),
                store: sharedStore)
        }
    }

    public var description: String { "karbonetes-devapi on \(url)" }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.httpServer.run() }
            group.addTask { try await self.ticker.run() }
            group.addTask { try await self.persister.run() }
            for service in extraServices {
                group.addTask { try await service.run() }
            }
        }
        await persister.flush()
    }

    /// Writes the data file now (tests that restart the server call it; `run()` does it on stop).
    public func flush() async { await persister.flush() }
}

/// The handler, set once after the server has bound its port (the handler needs the port
/// for discovery's server address, the server needs a handler at init).
private final class HandlerSlot: HTTPHandler, Sendable {
    private let stored = Mutex<DevAPIHandler?>(nil)

    var handler: DevAPIHandler? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let handler else { return .text("starting\n", status: .serviceUnavailable) }
        return await handler.handle(request)
    }
}
