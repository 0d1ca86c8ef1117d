public import Foundation
import KarbonetesHTTPClient
import KarbonetesTLS
import KarbonetesYAML

/// Finds and reads the cluster configuration the way client-go and controller-runtime do, so
/// that a service behaves the same in a pod, on a laptop with `kubectl` set up, and in tests.
public enum KubeConfigLoader {
    /// Where the kubelet mounts the service account's token, CA and namespace.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration by precedence: the `--kubeconfig` flag, then `KUBECONFIG` (only its first
    /// file when it is a colon-separated list: merging several files is not implemented), then
    /// in-cluster when `KUBERNETES_SERVICE_HOST` is set, then `~/.kube/config`.
    public static func resolve(
        kubeconfigFlag: String?,
        context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String? = nil,
        serviceAccountDirectory: String = KubeConfigLoader.serviceAccountDirectory
    ) throws -> KubeConfig {
        if let flag = kubeconfigFlag, !flag.isEmpty {
            return try load(kubeconfigAt: flag, context: context)
        }
        if let list = environment["KUBECONFIG"],
            let first = list.split(separator: ":", omittingEmptySubsequences: true).first
        {
            return try load(kubeconfigAt: String(first), context: context)
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            return try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        let home = homeDirectory ?? environment["HOME"] ?? NSHomeDirectory()
        let defaultPath = (home as NSString).appendingPathComponent(".kube/config")
        guard FileManager.default.fileExists(atPath: defaultPath) else {
            throw KubeConfigError.noConfiguration(
                triedPath: defaultPath,
                "no --kubeconfig, no KUBECONFIG, KUBERNETES_SERVICE_HOST unset (not in a pod), and \(defaultPath) does not exist"
            )
        }
        return try load(kubeconfigAt: defaultPath, context: context)
    }

    /// The pod's own service account: the token file is re-read whenever it changes, since the
    /// kubelet rotates projected tokens in place.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = KubeConfigLoader.serviceAccountDirectory
    ) throws -> KubeConfig {
        let source = "in-cluster"
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw KubeConfigError.missing(file: source, field: "KUBERNETES_SERVICE_HOST", "is not set (not running in a pod)")
        }
        guard let portText = environment["KUBERNETES_SERVICE_PORT"], !portText.isEmpty else {
            throw KubeConfigError.missing(file: source, field: "KUBERNETES_SERVICE_PORT", "is not set")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw KubeConfigError.invalid(file: source, field: "KUBERNETES_SERVICE_PORT", "\"\(portText)\" is not a port")
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let server = URL(string: "https://\(bracketed):\(port)") else {
            throw KubeConfigError.invalid(file: source, field: "KUBERNETES_SERVICE_HOST", "\"\(host)\" is not a host")
        }
        let directory = serviceAccountDirectory as NSString
        let tokenPath = directory.appendingPathComponent("token")
        let caPath = directory.appendingPathComponent("ca.crt")
        let namespacePath = directory.appendingPathComponent("namespace")
        guard let token = FileManager.default.contents(atPath: tokenPath) else {
            throw KubeConfigError.unreadable(file: tokenPath, "the service-account token is missing")
        }
        guard !String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw KubeConfigError.invalid(file: tokenPath, field: nil, "the service-account token is empty")
        }
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw KubeConfigError.unreadable(file: caPath, "the cluster CA certificate is missing")
        }
        guard looksLikePEM(ca) else {
            throw KubeConfigError.invalid(file: caPath, field: nil, "is not a PEM certificate")
        }
        var namespace = "default"
        if let data = FileManager.default.contents(atPath: namespacePath) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { namespace = text }
        }
        return KubeConfig(
            server: server,
            tls: TLSClientConfiguration(trustRoots: .pem(.file(caPath))),
            authorization: .bearerTokenFile(tokenPath),
            namespace: namespace,
            source: source)
    }

    /// Reads a kubeconfig file; relative paths inside it are relative to the file's folder.
    public static func load(kubeconfigAt path: String, context: String? = nil) throws -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw KubeConfigError.unreadable(file: path, exists ? "permission denied" : "no such file")
        }
        return try load(kubeconfig: data, file: path, context: context)
    }

    /// Reads kubeconfig text already in memory; `file` names it in errors and anchors relative
    /// paths.
    public static func load(kubeconfig data: Data, file: String, context contextOverride: String? = nil) throws -> KubeConfig {
        let parsed: KubeconfigFile
        do {
            parsed = try YAML.decode(KubeconfigFile.self, from: data, file: file)
        } catch let error as YAMLError {
            throw KubeConfigError.invalid(file: file, field: nil, error.problem + yamlPosition(error))
        }
        let folder = (file as NSString).deletingLastPathComponent
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") || folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path)
        }

        let contextName: String
        let contextField: String
        if let contextOverride, !contextOverride.isEmpty {
            contextName = contextOverride
            contextField = "--context"
        } else if let current = parsed.currentContext, !current.isEmpty {
            contextName = current
            contextField = "current-context"
        } else {
            throw KubeConfigError.missing(file: file, field: "current-context", "is not set and no context was given")
        }
        let contexts = parsed.contexts ?? []
        guard let contextIndex = contexts.firstIndex(where: { $0.name == contextName }) else {
            throw KubeConfigError.invalid(file: file, field: contextField, "names context \"\(contextName)\", which contexts does not list")
        }
        guard let context = contexts[contextIndex].context else {
            throw KubeConfigError.missing(file: file, field: "contexts[\(contextIndex)].context")
        }
        guard let clusterName = context.cluster, !clusterName.isEmpty else {
            throw KubeConfigError.missing(file: file, field: "contexts[\(contextIndex)].context.cluster")
        }
        let clusters = parsed.clusters ?? []
        guard let clusterIndex = clusters.firstIndex(where: { $0.name == clusterName }) else {
            throw KubeConfigError.invalid(
                file: file, field: "contexts[\(contextIndex)].context.cluster", "names cluster \"\(clusterName)\", which clusters does not list")
        }
        let clusterField = "clusters[\(clusterIndex)].cluster"
        guard let cluster = clusters[clusterIndex].cluster else {
            throw KubeConfigError.missing(file: file, field: clusterField)
        }
        guard let serverText = cluster.server, !serverText.isEmpty else {
            throw KubeConfigError.missing(file: file, field: "\(clusterField).server")
        }
        guard let server = URL(string: serverText), let scheme = server.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = server.host, !host.isEmpty
        else {
            throw KubeConfigError.invalid(file: file, field: "\(clusterField).server", "\"\(serverText)\" is not an http(s) URL")
        }

        var tls: TLSClientConfiguration?
        if scheme == "https" {
            var configuration = TLSClientConfiguration()
            if let data = cluster.certificateAuthorityData, !data.isEmpty {
                configuration.trustRoots = .pem(.data(try pem(data, file: file, field: "\(clusterField).certificate-authority-data")))
            } else if let path = cluster.certificateAuthority, !path.isEmpty {
                configuration.trustRoots = .pem(.file(try readablePEMFile(absolute(path), file: file, field: "\(clusterField).certificate-authority")))
            }
            configuration.insecureSkipVerify = cluster.insecureSkipTLSVerify ?? false
            configuration.serverName = cluster.tlsServerName
            tls = configuration
        }

        var authorization: HTTPAuthorization?
        if let userName = context.user, !userName.isEmpty {
            let users = parsed.users ?? []
            guard let userIndex = users.firstIndex(where: { $0.name == userName }) else {
                throw KubeConfigError.invalid(
                    file: file, field: "contexts[\(contextIndex)].context.user", "names user \"\(userName)\", which users does not list")
            }
            let userField = "users[\(userIndex)].user"
            let user = users[userIndex].user ?? KubeconfigFile.User()
            if user.exec != nil {
                throw KubeConfigError.unsupported(file: file, field: "\(userField).exec", "exec credential plugins; use a token or a client certificate")
            }
            if user.authProvider != nil {
                throw KubeConfigError.unsupported(file: file, field: "\(userField).auth-provider", "auth-provider plugins; use a token or a client certificate")
            }
            if let token = user.token, !token.isEmpty {
                authorization = .bearerToken(token)
            } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
                let path = absolute(tokenFile)
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw KubeConfigError.unreadable(file: file, field: "\(userField).tokenFile", "\(path) does not exist or is not readable")
                }
                authorization = .bearerTokenFile(path)
            } else if let username = user.username, !username.isEmpty {
                authorization = .basic(username: username, password: user.password ?? "")
            }
            let certificate: PEMSource? =
                if let data = user.clientCertificateData, !data.isEmpty {
                    .data(try pem(data, file: file, field: "\(userField).client-certificate-data"))
                } else if let path = user.clientCertificate, !path.isEmpty {
                    .file(try readablePEMFile(absolute(path), file: file, field: "\(userField).client-certificate"))
                } else { nil }
            let key: PEMSource? =
                if let data = user.clientKeyData, !data.isEmpty {
                    .data(try pem(data, file: file, field: "\(userField).client-key-data"))
                } else if let path = user.clientKey, !path.isEmpty {
                    .file(try readablePEMFile(absolute(path), file: file, field: "\(userField).client-key"))
                } else { nil }
            switch (certificate, key) {
            case (nil, nil): break
            case (.some, nil): throw KubeConfigError.missing(file: file, field: "\(userField).client-key", "is required with a client certificate")
            case (nil, .some): throw KubeConfigError.missing(file: file, field: "\(userField).client-certificate", "is required with a client key")
            case (.some(let certificate), .some(let key)):
                guard scheme == "https" else {
                    throw KubeConfigError.invalid(file: file, field: "\(clusterField).server", "a client certificate needs an https server")
                }
                tls?.clientCertificate = certificate
                tls?.clientKey = key
            }
        }
        let namespace = context.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        return KubeConfig(
            server: server, tls: tls, authorization: authorization, namespace: namespace, source: "\(file) (context \(contextName))")
    }

    private static func pem(_ base64: String, file: String, field: String) throws -> Data {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw KubeConfigError.invalid(file: file, field: field, "is not base64")
        }
        guard looksLikePEM(data) else {
            throw KubeConfigError.invalid(file: file, field: field, "does not decode to PEM (no -----BEGIN line)")
        }
        return data
    }

    private static func readablePEMFile(_ path: String, file: String, field: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError.unreadable(file: file, field: field, "\(path) does not exist or is not readable")
        }
        guard looksLikePEM(data) else {
            throw KubeConfigError.invalid(file: file, field: field, "\(path) is not PEM (no -----BEGIN line)")
        }
        return path
    }

    private static func looksLikePEM(_ data: Data) -> Bool {
        String(decoding: data, as: UTF8.self).contains("-----BEGIN ")
    }

    private static func yamlPosition(_ error: YAMLError) -> String {
        guard let line = error.line else { return "" }
        return " (line \(line)" + (error.column.map { ", column \($0)" } ?? "") + ")"
    }
}
