using System.Buffers.Binary;
using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

public ref partial struct FrameBuilder
{
    /// <summary>
    /// Geneve header (RFC 8926 3.4) with no options yet: version, O and C flags, protocol type, VNI.
    /// Add options with <see cref="GeneveOption"/> right after it; each updates Opt Len. The C flag is also
    /// set automatically when an option with the critical bit (type bit 0x80) is added.
    /// <paramref name="version"/> is for crafting bad packets; RFC 8926 defines only 0.
    /// </summary>
    public void Geneve(uint vni, ushort protocolType = EtherTypes.TransparentEthernetBridging, bool oam = false, bool critical = false, byte version = 0)
    {
        if (vni > 0xffffff || version > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(vni), "the VNI has 24 bits and the version 2");
        }

        _geneveOffset = _length;
        Span<byte> h = Reserve(8);
        h[0] = (byte)(version << 6);
        h[1] = (byte)((oam ? 0x80 : 0) | (critical ? 0x40 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], protocolType);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], vni << 8);
    }

    /// <summary>
    /// Appends a Geneve option (RFC 8926 3.5): class, type, length in 4-byte units, data (a multiple of 4, at
    /// most 124 bytes). Must directly follow <see cref="Geneve"/> or another option.
    /// </summary>
    public void GeneveOption(ushort optionClass, byte type, scoped ReadOnlySpan<byte> data)
    {
        if (data.Length % 4 != 0 || data.Length > 124)
        {
            throw new ArgumentException("Geneve option data is a multiple of 4 bytes, at most 124", nameof(data));
        }

        if (_geneveOffset < 0)
        {
            throw new InvalidOperationException("FrameBuilder.GeneveOption: no Geneve header written");
        }

        int optionsLength = (_buffer[_geneveOffset] & 0x3f) * 4;
        if (_length != _geneveOffset + 8 + optionsLength || optionsLength + 4 + data.Length > 252)
        {
            throw new InvalidOperationException("FrameBuilder.GeneveOption: options must directly follow the Geneve header and total at most 252 bytes");
        }

        Span<byte> o = Reserve(4 + data.Length);
        BinaryPrimitives.WriteUInt16BigEndian(o, optionClass);
        o[2] = type;
        o[3] = (byte)(data.Length / 4);
        data.CopyTo(o[4..]);

        Span<byte> g = _buffer[_geneveOffset..];
        g[0] = (byte)((g[0] & 0xc0) | ((optionsLength + 4 + data.Length) / 4));
        if ((type & 0x80) != 0)
        {
            g[1] |= 0x40;
        }
    }

    /// <summary>OVN's option (class 0x0102, type 0x80, 4 bytes) carrying the logical ingress and egress port keys.</summary>
    public void OvnGeneveOption(ushort ingressPortKey, ushort egressPortKey)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, Crafting.OvnGeneveOption.Encode(ingressPortKey, egressPortKey));
        GeneveOption(OvnGeneveMetadata.OptionClass, OvnGeneveMetadata.OptionType, data);
    }

    /// <summary>VXLAN header (RFC 7348 5): flags (0x08 = I, VNI valid), 24 reserved bits, VNI, 8 reserved bits.</summary>
    public void Vxlan(uint vni, byte flags = 0x08)
    {
        if (vni > 0xffffff)
        {
            throw new ArgumentOutOfRangeException(nameof(vni), "the VNI has 24 bits");
        }

        Span<byte> h = Reserve(8);
        BinaryPrimitives.WriteUInt32BigEndian(h, (uint)flags << 24);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], vni << 8);
    }

    /// <summary>A BFD control packet without authentication (RFC 5880 4.1), 24 bytes, Length field 24.</summary>
    public void Bfd(in BfdControl control)
    {
        if (control.Version > 7 || (byte)control.Diagnostic > 31 || (byte)control.State > 3 || (byte)control.Flags > 0x3f)
        {
            throw new ArgumentOutOfRangeException(nameof(control), "BFD version has 3 bits, diag 5, state 2, flags 6");
        }

        Span<byte> h = Reserve(BfdControl.Length);
        h[0] = (byte)((control.Version << 5) | (byte)control.Diagnostic);
        h[1] = (byte)(((byte)control.State << 6) | (byte)control.Flags);
        h[2] = control.DetectMultiplier;
        h[3] = BfdControl.Length;
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], control.MyDiscriminator);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], control.YourDiscriminator);
        BinaryPrimitives.WriteUInt32BigEndian(h[12..], control.DesiredMinTxInterval);
        BinaryPrimitives.WriteUInt32BigEndian(h[16..], control.RequiredMinRxInterval);
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], control.RequiredMinEchoRxInterval);
    }
}
