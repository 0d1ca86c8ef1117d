import Foundation
import KarbonetesHTTPClient
import KarbonetesKubeConfig
import KarbonetesTLS
import Testing

/// A temporary folder with files in it, removed at the end of the test.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "karbonetes-kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

let caPEM = "-----BEGIN CERTIFICATE-----\nMIIBdummyCA\n-----END CERTIFICATE-----\n"
let certPEM = "-----BEGIN CERTIFICATE-----\nMIIBdummyClient\n-----END CERTIFICATE-----\n"
let keyPEM = "-----BEGIN PRIVATE KEY-----\nMIIBdummyKey\n-----END PRIVATE KEY-----\n"
func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

@Suite("Kubeconfig files")
struct KubeconfigTests {
    @Test("a kind-style kubeconfig with inline data gives the server, the CA and the client certificate as data")
    func dataVariant() throws {
        let folder = try TemporaryFolder()
        let file = try folder.write(
            "config",
            """
            apiVersion: v1
            kind: Config
            preferences: {}
            clusters:
            - cluster:
                certificate-authority-data: \(base64(caPEM))
                server: https://127.0.0.1:6443
              name: kind-karbonetes
            contexts:
            - context:
                cluster: kind-karbonetes
                user: kind-karbonetes
                namespace: batch
              name: kind-karbonetes
            current-context: kind-karbonetes
            users:
            - name: kind-karbonetes
              user:
                client-certificate-data: \(base64(certPEM))
                client-key-data: \(base64(keyPEM))
            """)
        let config = try KubeConfigLoader.load(kubeconfigAt: file)
        #expect(config.server == URL(string: "https://127.0.0.1:6443"))
        #expect(config.namespace == "batch")
        #expect(config.tls?.trustRoots == .pem(.data(Data(caPEM.utf8))))
        #expect(config.tls?.clientCertificate == .data(Data(certPEM.utf8)))
        #expect(config.tls?.clientKey == .data(Data(keyPEM.utf8)))
        #expect(config.tls?.insecureSkipVerify == false)
        #expect(config.authorization == nil)
        #expect(config.source.contains(file))
    }

    @Test("file variants are resolved relative to the kubeconfig's folder, and tokenFile becomes a re-read token file")
    func fileVariant() throws {
        let folder = try TemporaryFolder()
        try folder.write("certs/ca.crt", caPEM)
        try folder.write("token", "abc\n")
        let file = try folder.write(
            "config",
            """
            clusters:
            - name: dev
              cluster:
                server: https://devapi.local:8443
                certificate-authority: certs/ca.crt
                tls-server-name: kubernetes.default.svc
            users:
            - name: robot
              user:
                tokenFile: token
            contexts:
            - name: dev
              context: {cluster: dev, user: robot}
            current-context: dev
            """)
        let config = try KubeConfigLoader.load(kubeconfigAt: file)
        #expect(config.tls?.trustRoots == .pem(.file(folder.path + "/certs/ca.crt")))
        #expect(config.tls?.serverName == "kubernetes.default.svc")
        #expect(config.authorization == .bearerTokenFile(folder.path + "/token"))
        #expect(config.namespace == "default")
    }

    struct UserCase: Sendable, CustomStringConvertible {
        var description: String
        var user: String
        var wantAuthorization: HTTPAuthorization?
    }

    @Test(
        "each user shape maps to its credential",
        arguments: [
            UserCase(description: "token", user: "token: s3cret", wantAuthorization: .bearerToken("s3cret")),
            UserCase(description: "basic", user: "username: admin\n    password: pw", wantAuthorization: .basic(username: "admin", password: "pw")),
            UserCase(description: "none", user: "{}", wantAuthorization: nil),
        ])
    func userShapes(_ testCase: UserCase) throws {
        let text = """
            clusters:
            - name: c
              cluster:
                server: https://10.0.0.1
                insecure-skip-tls-verify: true
            users:
            - name: u
              user:
                \(testCase.user)
            contexts:
            - name: ctx
              context: {cluster: c, user: u}
            current-context: ctx
            """
        let config = try KubeConfigLoader.load(kubeconfig: Data(text.utf8), file: "/tmp/test-config")
        #expect(config.authorization == testCase.wantAuthorization)
        #expect(config.tls?.insecureSkipVerify == true)
        #expect(config.tls?.trustRoots == .systemDefault)
    }

    @Test("an explicit context wins over current-context")
    func contextOverride() throws {
        let text = """
            clusters:
            - {name: a, cluster: {server: "https://a.example:6443"}}
            - {name: b, cluster: {server: "http://127.0.0.1:8001"}}
            contexts:
            - {name: a, context: {cluster: a}}
            - {name: b, context: {cluster: b, namespace: other}}
            current-context: a
            """
        let config = try KubeConfigLoader.load(kubeconfig: Data(text.utf8), file: "/k", context: "b")
        #expect(config.server.absoluteString == "http://127.0.0.1:8001")
        #expect(config.tls == nil)
        #expect(config.namespace == "other")
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var description: String
        var text: String
        var wantField: String?
        var wantInMessage: String
    }

    static let goodCluster = "clusters:\n- {name: c, cluster: {server: \"https://h:6443\"}}\n"
    static let goodContext = "contexts:\n- {name: x, context: {cluster: c, user: u}}\ncurrent-context: x\n"

    @Test(
        "a bad kubeconfig is one error naming the file and the field",
        arguments: [
            BadCase(description: "no current-context", text: goodCluster, wantField: "current-context", wantInMessage: "is not set"),
            BadCase(
                description: "unknown context", text: goodCluster + "current-context: nope\n", wantField: "current-context",
                wantInMessage: "\"nope\""),
            BadCase(
                description: "unknown cluster",
                text: "contexts:\n- {name: x, context: {cluster: zz}}\ncurrent-context: x\n", wantField: "contexts[0].context.cluster",
                wantInMessage: "\"zz\""),
            BadCase(
                description: "no server", text: "clusters:\n- {name: c, cluster: {}}\n" + goodContext + "users:\n- {name: u, user: {}}\n",
                wantField: "clusters[0].cluster.server", wantInMessage: "is required"),
            BadCase(
                description: "server not a URL",
                text: "clusters:\n- {name: c, cluster: {server: \"ftp://h\"}}\n" + goodContext + "users:\n- {name: u, user: {}}\n",
                wantField: "clusters[0].cluster.server", wantInMessage: "not an http(s) URL"),
            BadCase(
                description: "CA data not base64",
                text: "clusters:\n- {name: c, cluster: {server: \"https://h\", certificate-authority-data: \"@@@\"}}\n" + goodContext
                    + "users:\n- {name: u, user: {}}\n",
                wantField: "clusters[0].cluster.certificate-authority-data", wantInMessage: "not base64"),
            BadCase(
                description: "CA file missing",
                text: "clusters:\n- {name: c, cluster: {server: \"https://h\", certificate-authority: /nonexistent/ca.crt}}\n" + goodContext
                    + "users:\n- {name: u, user: {}}\n",
                wantField: "clusters[0].cluster.certificate-authority", wantInMessage: "/nonexistent/ca.crt"),
            BadCase(
                description: "key without certificate",
                text: goodCluster + goodContext + "users:\n- {name: u, user: {client-key-data: \(base64(keyPEM))}}\n",
                wantField: "users[0].user.client-certificate", wantInMessage: "is required"),
            BadCase(
                description: "exec plugin", text: goodCluster + goodContext + "users:\n- {name: u, user: {exec: {command: aws}}}\n",
                wantField: "users[0].user.exec", wantInMessage: "not supported"),
            BadCase(
                description: "unknown user", text: goodCluster + goodContext + "users: []\n", wantField: "contexts[0].context.user",
                wantInMessage: "\"u\""),
            BadCase(
                description: "wrong type", text: "clusters: {a: 1}\n", wantField: nil, wantInMessage: "clusters"),
            BadCase(description: "not YAML", text: "clusters: [\n", wantField: nil, wantInMessage: "line"),
        ])
    func badConfig(_ testCase: BadCase) throws {
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfigLoader.load(kubeconfig: Data(testCase.text.utf8), file: "/etc/kube/bad-config")
        }
        #expect(error.file == "/etc/kube/bad-config")
        #expect(error.field == testCase.wantField)
        #expect(error.description.contains("/etc/kube/bad-config"))
        #expect(error.description.contains(testCase.wantInMessage), "\(error.description)")
    }

    @Test("a missing kubeconfig names the path")
    func missingFile() throws {
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfigLoader.load(kubeconfigAt: "/nonexistent/kubeconfig")
        }
        #expect(error.description == "kubeconfig /nonexistent/kubeconfig: cannot be read: no such file")
    }
}

@Suite("In-cluster configuration and precedence")
struct InClusterTests {
    func serviceAccount(_ folder: TemporaryFolder, namespace: String? = "karbonetes-system") throws -> String {
        try folder.write("sa/token", "eyJhbGciOi.token\n")
        try folder.write("sa/ca.crt", caPEM)
        if let namespace { try folder.write("sa/namespace", namespace) }
        return folder.path + "/sa"
    }

    @Test("in a pod the service account's token file, CA and namespace are used")
    func inCluster() throws {
        let folder = try TemporaryFolder()
        let directory = try serviceAccount(folder)
        let config = try KubeConfigLoader.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: directory)
        #expect(config.server.absoluteString == "https://10.96.0.1:443")
        #expect(config.authorization == .bearerTokenFile(directory + "/token"))
        #expect(config.tls?.trustRoots == .pem(.file(directory + "/ca.crt")))
        #expect(config.namespace == "karbonetes-system")
        #expect(config.source == "in-cluster")
    }

    @Test("an IPv6 service host is bracketed in the URL")
    func ipv6() throws {
        let folder = try TemporaryFolder()
        let directory = try serviceAccount(folder, namespace: nil)
        let config = try KubeConfigLoader.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"], serviceAccountDirectory: directory)
        #expect(config.server.absoluteString == "https://[fd00::1]:6443")
        #expect(config.namespace == "default")
    }

    struct BadInCluster: Sendable, CustomStringConvertible {
        var description: String
        var environment: [String: String]
        var removeFile: String?
        var wantInMessage: String
    }

    @Test(
        "a broken in-cluster setup names what is missing",
        arguments: [
            BadInCluster(description: "no port", environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"], wantInMessage: "KUBERNETES_SERVICE_PORT"),
            BadInCluster(
                description: "bad port", environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "https"],
                wantInMessage: "\"https\" is not a port"),
            BadInCluster(
                description: "no token", environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                removeFile: "token", wantInMessage: "sa/token"),
            BadInCluster(
                description: "no CA", environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                removeFile: "ca.crt", wantInMessage: "sa/ca.crt"),
        ])
    func badInCluster(_ testCase: BadInCluster) throws {
        let folder = try TemporaryFolder()
        let directory = try serviceAccount(folder)
        if let file = testCase.removeFile { try FileManager.default.removeItem(atPath: directory + "/" + file) }
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfigLoader.inCluster(environment: testCase.environment, serviceAccountDirectory: directory)
        }
        #expect(error.description.contains(testCase.wantInMessage), "\(error.description)")
    }

    static func kubeconfig(server: String) -> String {
        "clusters:\n- {name: c, cluster: {server: \"\(server)\"}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
    }

    struct PrecedenceCase: Sendable, CustomStringConvertible {
        var description: String
        var flag: Bool
        var kubeconfigEnvironment: Bool
        var inCluster: Bool
        var home: Bool
        var wantServer: String
    }

    @Test(
        "the flag wins, then KUBECONFIG (its first file), then in-cluster, then ~/.kube/config",
        arguments: [
            PrecedenceCase(description: "flag", flag: true, kubeconfigEnvironment: true, inCluster: true, home: true, wantServer: "https://flag:1"),
            PrecedenceCase(description: "env", flag: false, kubeconfigEnvironment: true, inCluster: true, home: true, wantServer: "https://env:1"),
            PrecedenceCase(
                description: "in-cluster", flag: false, kubeconfigEnvironment: false, inCluster: true, home: true, wantServer: "https://10.0.0.1:443"
            ),
            PrecedenceCase(description: "home", flag: false, kubeconfigEnvironment: false, inCluster: false, home: true, wantServer: "https://home:1"),
        ])
    func precedence(_ testCase: PrecedenceCase) throws {
        let folder = try TemporaryFolder()
        let directory = try serviceAccount(folder)
        let flagFile = try folder.write("flag-config", Self.kubeconfig(server: "https://flag:1"))
        let envFile = try folder.write("env-config", Self.kubeconfig(server: "https://env:1"))
        try folder.write("home/.kube/config", Self.kubeconfig(server: "https://home:1"))
        var environment: [String: String] = [:]
        if testCase.kubeconfigEnvironment { environment["KUBECONFIG"] = envFile + ":" + flagFile }
        if testCase.inCluster {
            environment["KUBERNETES_SERVICE_HOST"] = "10.0.0.1"
            environment["KUBERNETES_SERVICE_PORT"] = "443"
        }
        let config = try KubeConfigLoader.resolve(
            kubeconfigFlag: testCase.flag ? flagFile : nil, environment: environment,
            homeDirectory: testCase.home ? folder.path + "/home" : folder.path + "/nohome", serviceAccountDirectory: directory)
        #expect(config.server.absoluteString == testCase.wantServer)
    }

    @Test("with nothing configured the error says everything that was tried")
    func nothing() throws {
        let folder = try TemporaryFolder()
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfigLoader.resolve(kubeconfigFlag: nil, environment: [:], homeDirectory: folder.path)
        }
        #expect(error.description.contains("KUBECONFIG"))
        #expect(error.description.contains(folder.path + "/.kube/config"))
    }
}
