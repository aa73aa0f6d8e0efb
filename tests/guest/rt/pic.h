/* The legacy 8259 pair: moved off the exception vectors and fully masked. */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

/*
 * Re-initialises both PICs to vectors 0x20..0x2f (firmware leaves the master on 0x08, the
 * double-fault vector) and masks every line. SeaBIOS leaves the PIT ticking through the PIC
 * under QEMU; without this the first sti would take a timer tick we never asked for.
 */
void pic_disable(void);

#endif
