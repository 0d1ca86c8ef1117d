public import Foundation

/// The kubeconfig the server writes for its clients: the CA inline (base64), the server URL
/// and the bearer token, under one context named `karbonetes-devapi`, which both kubectl and
/// the project's own client read.
public enum Kubeconfig {
    public static func render(server: String, caPEM: Data, token: String, namespace: String = "default") -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: karbonetes-devapi
          cluster:
            server: \(server)
            certificate-authority-data: \(caPEM.base64EncodedString())
        users:
        - name: karbonetes-devapi
          user:
            token: \(token)
        contexts:
        - name: karbonetes-devapi
          context:
            cluster: karbonetes-devapi
            user: karbonetes-devapi
            namespace: \(namespace)
        current-context: karbonetes-devapi
        preferences: {}

        """
    }

    /// Writes through a temporary file and a rename, mode 0600, so a reader never sees half.
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DevAPIServerError.cannotWrite(path)
        }
        guard rename(temporary, path) == 0 else { throw DevAPIServerError.cannotWrite(path) }
    }
}
