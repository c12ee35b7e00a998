using UplinkProbe.Decoding;

namespace UplinkProbe.Reporting;

/// <summary>Short, stable names of layers, as used in JSON output and summaries (docs/decode-json.md).</summary>
public static class LayerNames
{
    public static string Of(LayerKind kind) => kind switch
    {
        LayerKind.Ethernet => "eth",
        LayerKind.Llc => "llc",
        LayerKind.Snap => "snap",
        LayerKind.Dot1Q => "vlan",
        LayerKind.Dot1AD => "svlan",
        LayerKind.LinuxSll => "sll",
        LayerKind.LinuxSll2 => "sll2",
        LayerKind.Loopback => "null",
        LayerKind.VnTag => "vntag",
        LayerKind.PbbITag => "pbb",
        LayerKind.Mpls => "mpls",
        LayerKind.PwControlWord => "pwcw",
        LayerKind.PwAch => "pwach",
        LayerKind.Arp => "arp",
        LayerKind.Rarp => "rarp",
        LayerKind.Ipv4 => "ipv4",
        LayerKind.Ipv6 => "ipv6",
        LayerKind.Ipv6HopByHop => "ipv6.hop",
        LayerKind.Ipv6Routing => "ipv6.routing",
        LayerKind.Ipv6Fragment => "ipv6.frag",
        LayerKind.Ipv6DestinationOptions => "ipv6.dst",
        LayerKind.Ipv6AuthenticationHeader => "ah",
        LayerKind.Icmpv4 => "icmp",
        LayerKind.Icmpv6 => "icmpv6",
        LayerKind.Udp => "udp",
        LayerKind.Tcp => "tcp",
        LayerKind.Geneve => "geneve",
        LayerKind.Vxlan => "vxlan",
        LayerKind.Bfd => "bfd",
        LayerKind.Payload => "payload",
        _ => "none",
    };

    public static string Of(ArpKind kind) => kind switch
    {
        ArpKind.Request => "request",
        ArpKind.Reply => "reply",
        ArpKind.GratuitousRequest => "gratuitous_request",
        ArpKind.Announcement => "announcement",
        ArpKind.GratuitousReply => "gratuitous_reply",
        ArpKind.Probe => "probe",
        ArpKind.RarpRequest => "rarp_request",
        ArpKind.RarpReply => "rarp_reply",
        _ => "other",
    };

    /// <summary>RFC 4191 2.1 preference values: 01 high, 00 medium, 11 low, 10 reserved.</summary>
    public static string OfRoutePreference(byte preference) => (preference & 0x03) switch
    {
        0 => "medium",
        1 => "high",
        3 => "low",
        _ => "reserved",
    };

    public static string Of(BfdState state) => state switch
    {
        BfdState.AdminDown => "admin_down",
        BfdState.Down => "down",
        BfdState.Init => "init",
        _ => "up",
    };

    public static string Of(BfdDiagnostic diag) => diag switch
    {
        BfdDiagnostic.None => "none",
        BfdDiagnostic.ControlDetectionTimeExpired => "control_detection_time_expired",
        BfdDiagnostic.EchoFunctionFailed => "echo_function_failed",
        BfdDiagnostic.NeighborSignaledSessionDown => "neighbor_signaled_session_down",
        BfdDiagnostic.ForwardingPlaneReset => "forwarding_plane_reset",
        BfdDiagnostic.PathDown => "path_down",
        BfdDiagnostic.ConcatenatedPathDown => "concatenated_path_down",
        BfdDiagnostic.AdministrativelyDown => "administratively_down",
        BfdDiagnostic.ReverseConcatenatedPathDown => "reverse_concatenated_path_down",
        BfdDiagnostic.MisConnectivityDefect => "mis_connectivity_defect",
        _ => "reserved",
    };
}
