public import Foundation

/// Where PEM text comes from: a file (re-read where the runtime says so) or bytes in memory,
/// such as a kubeconfig's `certificate-authority-data`.
public enum PEMSource: Sendable, Hashable {
    case file(String)
    case data(Data)

    func load() throws -> Data {
        switch self {
        case .data(let data):
            return data
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw TLSError.unreadableFile(path) }
            return data
        }
    }

    var displayName: String {
        switch self {
        case .file(let path): path
        case .data: "PEM data"
        }
    }
}

/// The lowest protocol version a context accepts. There is no TLS 1.1 or below on purpose.
public enum TLSVersion: String, Sendable, Hashable, CaseIterable {
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"
}

/// What a server presents and whom it asks for certificates.
///
/// The files are watched: when the certificate or key file changes (cert-manager and Secret
/// volumes rotate them in place), new connections get the new pair and open ones keep theirs.
public struct TLSServerConfiguration: Sendable, Hashable {
    public var certificateFile: String
    public var keyFile: String
    /// When set, clients must present a certificate signed by one of these CAs.
    public var clientCAFile: String?
    public var minimumVersion: TLSVersion

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil, minimumVersion: TLSVersion = .tls12) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        self.minimumVersion = minimumVersion
    }
}

/// Which certificate authorities a client trusts.
public enum TLSTrustRoots: Sendable, Hashable {
    /// The system's bundle (Debian's `ca-certificates`), for public endpoints.
    case systemDefault
    /// A cluster's own CA, from a file or a kubeconfig's data.
    case pem(PEMSource)
}

/// How a client verifies the server and proves who it is.
public struct TLSClientConfiguration: Sendable, Hashable {
    public var trustRoots: TLSTrustRoots
    public var clientCertificate: PEMSource?
    public var clientKey: PEMSource?
    /// The name sent as SNI and checked against the certificate; the URL's host when nil.
    public var serverName: String?
    /// Skips chain and host name checks. Only for a kubeconfig that says
    /// `insecure-skip-tls-verify: true`: it makes the connection open to interception.
    public var insecureSkipVerify: Bool
    public var minimumVersion: TLSVersion

    public init(
        trustRoots: TLSTrustRoots = .systemDefault,
        clientCertificate: PEMSource? = nil,
        clientKey: PEMSource? = nil,
        serverName: String? = nil,
        insecureSkipVerify: Bool = false,
        minimumVersion: TLSVersion = .tls12
    ) {
        self.trustRoots = trustRoots
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.serverName = serverName
        self.insecureSkipVerify = insecureSkipVerify
        self.minimumVersion = minimumVersion
    }
}
