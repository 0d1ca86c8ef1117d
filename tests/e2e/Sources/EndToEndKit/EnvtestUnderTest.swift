public import Foundation

/// A real control plane from the folder `KUBEBUILDER_ASSETS` names (as controller-runtime's
/// envtest lays it out: `etcd`, `kube-apiserver`, optionally `kube-controller-manager`),
/// started on loopback: etcd on a temporary data directory, the API server with certificates
/// the suite makes, a generated service-account key, a static token file and
/// `--authorization-mode=AlwaysAllow`; the controller manager (when present) runs only the
/// CronJob controller, for the CronJob scenarios.
public final class EnvtestUnderTest: APIServerUnderTest {
    public let kind = APIServerKind.envtest
    public let url: URL
    public let caPEM: Data
    public let token: String
    public let kubeconfigPath: String
    public var runsCronJobs: Bool { controllerManager != nil }
    let etcd: ChildProcess
    let apiServer: ChildProcess
    let controllerManager: ChildProcess?

    init(
        url: URL, caPEM: Data, token: String, kubeconfigPath: String, etcd: ChildProcess, apiServer: ChildProcess,
        controllerManager: ChildProcess?
    ) {
        self.url = url
        self.caPEM = caPEM
        self.token = token
        self.kubeconfigPath = kubeconfigPath
        self.etcd = etcd
        self.apiServer = apiServer
        self.controllerManager = controllerManager
    }

    /// The assets folder when it holds at least `etcd` and `kube-apiserver`, else nil.
    public static func assets(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let folder = environment["KUBEBUILDER_ASSETS"], !folder.isEmpty else { return nil }
        let manager = FileManager.default
        guard manager.isExecutableFile(atPath: folder + "/etcd"),
            manager.isExecutableFile(atPath: folder + "/kube-apiserver")
        else { return nil }
        return folder
    }

    static func start(in directory: String) async throws -> EnvtestUnderTest {
        guard let assets = assets() else {
            throw EndToEndError.missingTool("KUBEBUILDER_ASSETS is not set (or lacks kube-apiserver/etcd)")
        }
        let pki = directory + "/envtest-pki"
        let certificates = try await ServingCertificates.make(in: pki)
        try await Shell.run("openssl", ["genrsa", "-out", pki + "/sa.key", "2048"], logDirectory: pki, name: "sa-key")
        try await Shell.run(
            "openssl", ["rsa", "-in", pki + "/sa.key", "-pubout", "-out", pki + "/sa.pub"], logDirectory: pki,
            name: "sa-pub")
        let token = UUID().uuidString.lowercased()
        let tokenFile = pki + "/tokens.csv"
        try "\(token),karbonetes-e2e,karbonetes-e2e,\"system:masters\"\n".write(
            toFile: tokenFile, atomically: true, encoding: .utf8)

        let etcdPort = try FreePort.next()
        let peerPort = try FreePort.next()
        let etcd = try ChildProcess(
            name: "etcd", executable: assets + "/etcd",
            arguments: [
                "--data-dir", directory + "/etcd-data", "--listen-client-urls", "http://127.0.0.1:\(etcdPort)",
                "--advertise-client-urls", "http://127.0.0.1:\(etcdPort)", "--listen-peer-urls",
                "http://127.0.0.1:\(peerPort)",
                "--initial-advertise-peer-urls", "http://127.0.0.1:\(peerPort)",
                "--initial-cluster", "default=http://127.0.0.1:\(peerPort)", "--unsafe-no-fsync",
            ],
            logDirectory: directory)

        let apiPort = try FreePort.next()
        let apiServer = try ChildProcess(
            name: "kube-apiserver", executable: assets + "/kube-apiserver",
            arguments: [
                "--etcd-servers", "http://127.0.0.1:\(etcdPort)", "--bind-address", "127.0.0.1", "--advertise-address",
                "127.0.0.1",
                "--secure-port", String(apiPort), "--tls-cert-file", certificates.certificateFile,
                "--tls-private-key-file", certificates.keyFile, "--token-auth-file", tokenFile,
                "--authorization-mode=AlwaysAllow", "--service-account-issuer", "https://kubernetes.default.svc",
                "--service-account-key-file", pki + "/sa.pub", "--service-account-signing-key-file", pki + "/sa.key",
                "--service-cluster-ip-range", "10.0.0.0/24", "--allow-privileged=true",
                "--disable-admission-plugins", "ServiceAccount",
            ],
            logDirectory: directory)
        let url = URL(string: "https://127.0.0.1:\(apiPort)")!
        let kubeconfig = directory + "/kubeconfig"
        try Kubeconfigs.write(to: kubeconfig, server: url, caPEM: certificates.caCertificatePEM, token: token)
        let api = try KubeAPI(server: url, caPEM: certificates.caCertificatePEM, token: token)
        do {
            try await Eventually.check("kube-apiserver /readyz", timeout: .seconds(90), interval: .milliseconds(250)) {
                if let code = apiServer.exitCode {
                    throw EndToEndError.unexpected("kube-apiserver exited \(code)\n\(apiServer.logTail())")
                }
                return await api.status(of: "/readyz") == 200
            }
        } catch {
            await api.shutdown()
            throw error
        }
        await api.shutdown()
        var controllerManager: ChildProcess?
        if FileManager.default.isExecutableFile(atPath: assets + "/kube-controller-manager") {
            controllerManager = try ChildProcess(
                name: "kube-controller-manager", executable: assets + "/kube-controller-manager",
                arguments: [
                    "--kubeconfig", kubeconfig, "--controllers", "cronjob", "--leader-elect=false",
                    "--bind-address", "127.0.0.1", "--secure-port", String(try FreePort.next()),
                ],
                logDirectory: directory)
        }
        return EnvtestUnderTest(
            url: url, caPEM: certificates.caCertificatePEM, token: token, kubeconfigPath: kubeconfig, etcd: etcd,
            apiServer: apiServer,
            controllerManager: controllerManager)
    }

    public func stop() async {
        if let controllerManager { await controllerManager.terminate() }
        await apiServer.terminate()
        await etcd.terminate()
    }

    public func logTails() -> String {
        ([apiServer, etcd] + (controllerManager.map { [$0] } ?? [])).map { $0.logTail(lines: 15) }.joined(
            separator: "\n")
    }
}
